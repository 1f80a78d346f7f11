//! The grasp inspector: per jaw, which of its geoms touch the cube (the pad, or a jaw collision
//! box behind it), how hard, how close to slipping and how deep, and one verdict for the grasp.
//! Pure functions of a snapshot's contacts, so live and replay show the same.

use serde::{Deserialize, Serialize};

use super::ContactInfo;
use crate::scene::SceneHandles;

/// Friction-cone use at or above which a contact counts as sliding.
pub const SLIDING_CONE_USE: f64 = 0.95;
/// Hand penetration into the cube above which the grasp counts as clipping, metres.
pub const CLIPPING_PENETRATION_M: f64 = 0.0005;

/// What one jaw does to the cube.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JawContact {
    /// Its pad touches the cube.
    pub pad: bool,
    /// Names of its other geoms (jaw boxes) that touch the cube.
    pub other_geoms: Vec<String>,
    /// Total normal force on the cube, newtons.
    pub normal_force: f64,
    /// Highest friction-cone use |f_t| / (mu f_n) of its contacts (1 = about to slip).
    pub max_cone_use: f64,
    /// Deepest penetration into the cube, metres.
    pub max_penetration: f64,
    /// Deepest penetration of its geoms other than the pad (jaw boxes), metres.
    #[serde(default)]
    pub max_box_penetration: f64,
}

impl JawContact {
    /// Whether any of its geoms touches the cube.
    pub fn touches(&self) -> bool {
        self.pad || !self.other_geoms.is_empty()
    }
}

/// The grasp, in one word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum GraspVerdict {
    /// No hand geom touches the cube.
    #[default]
    NoContact,
    /// Only one jaw touches the cube.
    OneJaw,
    /// Both pads, and nothing else of the hand, hold the cube.
    CleanPadGrasp,
    /// A jaw collision box touches the cube besides (or instead of) the pads.
    JawBoxInvolved,
    /// A hand contact is at the friction-cone limit: the cube slides in the grasp.
    Sliding,
    /// The hand is more than 0.5 mm inside the cube.
    Clipping,
}

impl GraspVerdict {
    /// Every verdict, from no contact to clipping (the order of [`GraspVerdict::index`]).
    pub const ALL: [GraspVerdict; 6] = [
        Self::NoContact,
        Self::OneJaw,
        Self::CleanPadGrasp,
        Self::JawBoxInvolved,
        Self::Sliding,
        Self::Clipping,
    ];

    /// Position in [`GraspVerdict::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Short text for panels and timelines.
    pub fn label(self) -> &'static str {
        match self {
            Self::NoContact => "no contact",
            Self::OneJaw => "one jaw",
            Self::CleanPadGrasp => "clean pad grasp",
            Self::JawBoxInvolved => "jaw box involved",
            Self::Sliding => "sliding",
            Self::Clipping => "clipping",
        }
    }

    /// Whether the timeline marks this verdict as an event.
    pub fn is_fault(self) -> bool {
        matches!(self, Self::Sliding | Self::Clipping)
    }
}

/// Both jaws and the verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraspInspection {
    /// The static jaw (gripper body).
    pub static_jaw: JawContact,
    /// The moving jaw.
    pub moving_jaw: JawContact,
    /// The grasp in one word: clipping, then one jaw, sliding, a jaw box, clean.
    pub verdict: GraspVerdict,
}

impl GraspInspection {
    /// Both jaws, static first.
    pub fn jaws(&self) -> [&JawContact; 2] {
        [&self.static_jaw, &self.moving_jaw]
    }

    /// Whether the pads, and nothing else of the hand, touch the cube.
    pub fn pads_only(&self) -> bool {
        self.jaws().iter().all(|j| j.other_geoms.is_empty()) && self.jaws().iter().any(|j| j.pad)
    }

    /// Whether some hand contact is at the friction-cone limit.
    pub fn at_cone_limit(&self) -> bool {
        self.jaws()
            .iter()
            .any(|j| j.touches() && j.max_cone_use >= SLIDING_CONE_USE)
    }

    /// Deepest penetration of a hand geom that is not a pad, metres.
    pub fn max_box_penetration(&self) -> f64 {
        self.static_jaw
            .max_box_penetration
            .max(self.moving_jaw.max_box_penetration)
    }
}

impl super::Sim {
    /// The grasp inspector on the simulation's current contacts.
    pub fn inspect_grasp(&self) -> GraspInspection {
        inspect_grasp(&self.contacts(), self.handles(), self.model().geom_bodyid())
    }
}

/// Inspects the cube's contacts with the hand; `geom_body` is the model's `geom_bodyid`.
pub fn inspect_grasp(
    contacts: &[ContactInfo],
    handles: &SceneHandles,
    geom_body: &[i32],
) -> GraspInspection {
    let mut jaws = [JawContact::default(), JawContact::default()];
    for c in contacts {
        let (other, name) = if c.geom1 == handles.cube_geom {
            (c.geom2, &c.name2)
        } else if c.geom2 == handles.cube_geom {
            (c.geom1, &c.name1)
        } else {
            continue;
        };
        let body = geom_body.get(other).and_then(|&b| usize::try_from(b).ok());
        let k = if body == Some(handles.gripper_body) {
            0
        } else if body == Some(handles.moving_jaw_body) {
            1
        } else {
            continue;
        };
        let jaw = &mut jaws[k];
        if other == handles.static_pad_geom || other == handles.moving_pad_geom {
            jaw.pad = true;
        } else {
            jaw.max_box_penetration = jaw.max_box_penetration.max(c.penetration);
            if !jaw.other_geoms.contains(name) {
                jaw.other_geoms.push(name.clone());
            }
        }
        jaw.normal_force += c.normal_force;
        jaw.max_cone_use = jaw.max_cone_use.max(c.cone_use());
        jaw.max_penetration = jaw.max_penetration.max(c.penetration);
    }
    let [static_jaw, moving_jaw] = jaws;
    let verdict = verdict(&static_jaw, &moving_jaw);
    GraspInspection {
        static_jaw,
        moving_jaw,
        verdict,
    }
}

fn verdict(a: &JawContact, b: &JawContact) -> GraspVerdict {
    let both = [a, b];
    if both.iter().all(|j| !j.touches()) {
        return GraspVerdict::NoContact;
    }
    if both
        .iter()
        .any(|j| j.max_penetration > CLIPPING_PENETRATION_M)
    {
        return GraspVerdict::Clipping;
    }
    // One jaw alone pushes the cube: cone use says nothing about a grasp then.
    if both.iter().any(|j| !j.touches()) {
        return GraspVerdict::OneJaw;
    }
    if both.iter().any(|j| j.max_cone_use >= SLIDING_CONE_USE) {
        return GraspVerdict::Sliding;
    }
    if both.iter().any(|j| !j.other_geoms.is_empty()) {
        return GraspVerdict::JawBoxInvolved;
    }
    GraspVerdict::CleanPadGrasp
}
