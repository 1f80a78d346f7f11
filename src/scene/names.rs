//! Every MJCF name the code refers to, in one place. Ids are resolved from these at load time
//! (`SceneHandles`); nothing else hard-codes an element.

/// Arm joints in kinematic order, then the gripper; actuators carry the same names.
pub const ARM_JOINTS: [&str; 5] = [
    "shoulder_pan",
    "shoulder_lift",
    "elbow_flex",
    "wrist_flex",
    "wrist_roll",
];
/// The moving-jaw joint (low = closed).
pub const GRIPPER_JOINT: &str = "gripper";
/// All six actuated joints, arm first.
pub const ALL_JOINTS: [&str; 6] = [
    "shoulder_pan",
    "shoulder_lift",
    "elbow_flex",
    "wrist_flex",
    "wrist_roll",
    "gripper",
];
/// Index of `wrist_roll` in [`ALL_JOINTS`].
pub const WRIST_ROLL_INDEX: usize = 4;
/// Index of `wrist_flex` in [`ALL_JOINTS`].
pub const WRIST_FLEX_INDEX: usize = 3;
/// Index of `gripper` in [`ALL_JOINTS`].
pub const GRIPPER_INDEX: usize = 5;

/// Every body of the robot, base to moving jaw.
pub const ALL_ROBOT_BODIES: [&str; 7] = [
    "base",
    "shoulder",
    "upper_arm",
    "lower_arm",
    "wrist",
    "gripper",
    "moving_jaw_so101_v1",
];
/// The gripper body: static jaw, `gripperframe`, `graspframe`, static pad, wrist camera.
pub const GRIPPER_BODY: &str = "gripper";
/// The moving jaw body.
pub const MOVING_JAW_BODY: &str = "moving_jaw_so101_v1";
/// The cube body and its free joint.
pub const CUBE_BODY: &str = "cube";
/// The cube's free joint.
pub const CUBE_JOINT: &str = "cube";

/// The cube geom.
pub const CUBE_GEOM: &str = "cube";
/// The floor plane.
pub const FLOOR_GEOM: &str = "floor";
/// Box pad on the static jaw.
pub const STATIC_PAD_GEOM: &str = "static_finger_pad";
/// Box pad on the moving jaw.
pub const MOVING_PAD_GEOM: &str = "moving_finger_pad";
/// The wheel's own inert jaw pads, replaced by ours.
pub const UPSTREAM_PAD_GEOMS: [&str; 2] = ["fixed_jaw_pad", "moving_jaw_pad"];

/// TCP between the fingertips.
pub const GRIPPERFRAME_SITE: &str = "gripperframe";
/// Grasp point between the fingers, ~6 cm behind the TCP.
pub const GRASPFRAME_SITE: &str = "graspframe";

/// Named cameras of the lift scene.
pub const CAMERAS: [&str; 4] = ["front", "side", "top", "wrist"];
/// The camera on the gripper.
pub const WRIST_CAMERA: &str = "wrist";

/// The robot MJCF inside the robot directory.
pub const ROBOT_XML_FILE: &str = "so101_new_calib.xml";
/// Mesh folder inside the robot directory.
pub const ROBOT_MESH_DIR: &str = "assets";
/// Placeholder in our scene template replaced by the robot MJCF path.
pub const ROBOT_XML_PLACEHOLDER: &str = "ROBOT_XML";
