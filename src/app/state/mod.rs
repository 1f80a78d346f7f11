//! Every state type more than one plugin reads or writes, in one place. Plugins depend on these
//! types (and on the core library), never on each other: a plugin owns its systems and its UI,
//! and talks to the others only through these resources, components and command queues.

mod replay;
mod sim;
mod view;

pub use replay::*;
pub use sim::*;
pub use view::*;
