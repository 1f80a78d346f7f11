//! Scene assembly: template + robot include, mesh paths, then the config's edits.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mujoco_rs::prelude::*;
use mujoco_rs::wrappers::mj_editing::{MjsBody, MjsGeom};

use super::error::SceneError;
use super::handles::SceneHandles;
use super::names;
use crate::config::SceneConfig;

/// A compiled scene: the model, the config it came from, and its resolved names.
#[derive(Debug, Clone)]
pub struct BuiltScene {
    /// The compiled model, shared by every `MjData` of this scene.
    pub model: Arc<MjModel>,
    /// The config the scene was built from.
    pub config: SceneConfig,
    /// Element ids looked up by name and validated.
    pub handles: SceneHandles,
}

/// Our scene template shipped in `assets/`.
pub fn template_path() -> PathBuf {
    crate::paths::data_file("assets/so101_lift.xml")
}

/// Builds and compiles the lift scene.
pub fn build(config: &SceneConfig) -> Result<BuiltScene, SceneError> {
    let mut spec = build_spec(config)?;
    let model = spec
        .compile()
        .map_err(|e| SceneError::Compile(edit_message(&e)))?;
    let model = Arc::new(model);
    let handles = SceneHandles::resolve(&model)?;
    Ok(BuiltScene {
        model,
        config: config.clone(),
        handles,
    })
}

/// Writes the fully built scene as standalone MJCF (absolute mesh paths), for MuJoCo's viewer,
/// with every number at full round-trip precision.
pub fn export_xml(config: &SceneConfig, out: &Path) -> Result<(), SceneError> {
    let mut spec = build_spec(config)?;
    // Compile first so a broken scene is reported as such, not as a save failure.
    spec.compile()
        .map_err(|e| SceneError::Compile(edit_message(&e)))?;
    let xml = {
        let _exact = ExactXmlNumbers::new();
        spec.save_xml_string(1 << 22)
    }
    .map_err(|e| SceneError::Export {
        path: out.to_owned(),
        message: edit_message(&e),
    })?;
    crate::fsutil::write_atomic(out, xml.as_bytes()).map_err(|e| SceneError::Export {
        path: out.to_owned(),
        message: e.to_string(),
    })
}

// libmujoco's XML writer prints numbers with a precision held per thread (thread-local in
// MuJoCo's source), 6 significant digits unless changed; 0 prints each number as the shortest
// text that reads back as the same double. The setter is exported by libmujoco 3.17 but not
// declared in its public headers (MuJoCo's own tests use it), so it is declared here.
unsafe extern "C" {
    fn _mjPRIVATE__get_xml_precision() -> std::ffi::c_int;
    fn _mjPRIVATE__set_xml_precision(precision: std::ffi::c_int);
}

/// While alive, MuJoCo's XML writer prints every number at full round-trip precision; the
/// previous precision comes back on drop. Why: at 6 digits the exported MJCF compiles to a
/// different model (joint ranges, inertias, orientations up to ~4e-6 apart), so an episode
/// re-simulated from it drifts from the recording.
struct ExactXmlNumbers(std::ffi::c_int);

impl ExactXmlNumbers {
    fn new() -> Self {
        // SAFETY: plain getter and setter of an int inside libmujoco, no pointers involved.
        unsafe {
            let previous = _mjPRIVATE__get_xml_precision();
            _mjPRIVATE__set_xml_precision(0);
            Self(previous)
        }
    }
}

impl Drop for ExactXmlNumbers {
    fn drop(&mut self) {
        // SAFETY: as in `new`.
        unsafe { _mjPRIVATE__set_xml_precision(self.0) }
    }
}

/// Writes the compiled model as MuJoCo's binary file (`mj_saveModel`): every number exactly as
/// simulated, so MuJoCo's own bindings re-simulate an episode bit for bit.
pub fn export_mjb(config: &SceneConfig, out: &Path) -> Result<(), SceneError> {
    let scene = build(config)?;
    let mut bytes = vec![0u8; scene.model.size()];
    let fail = |message: String| SceneError::Export {
        path: out.to_owned(),
        message,
    };
    scene
        .model
        .save_to_buffer(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    crate::fsutil::write_atomic(out, &bytes).map_err(|e| fail(e.to_string()))
}

/// Parses the template with the robot included and applies every config edit (not compiled).
pub fn build_spec(config: &SceneConfig) -> Result<MjSpec, SceneError> {
    let robot_dir = config.resolved_robot_dir();
    let robot_xml = robot_dir.join(names::ROBOT_XML_FILE);
    if !robot_xml.is_file() {
        return Err(SceneError::MissingRobotModel { path: robot_xml });
    }
    let mesh_dir = robot_dir.join(names::ROBOT_MESH_DIR);
    if !mesh_dir.is_dir() {
        return Err(SceneError::MissingMeshDir { path: mesh_dir });
    }
    let template = template_path();
    let text = std::fs::read_to_string(&template).map_err(|source| SceneError::Template {
        path: template.clone(),
        source,
    })?;
    let robot_xml = std::fs::canonicalize(&robot_xml).unwrap_or(robot_xml);
    let text = text.replace(names::ROBOT_XML_PLACEHOLDER, &robot_xml.to_string_lossy());
    let mut spec = MjSpec::from_xml_string(&text).map_err(|e| SceneError::Parse {
        path: template.clone(),
        robot: robot_xml.clone(),
        message: edit_message(&e),
    })?;

    relocate_meshes(&mut spec, &mesh_dir)?;
    apply_physics(&mut spec, config);
    apply_actuators(&mut spec, config)?;
    apply_cube(&mut spec, config)?;
    apply_collision_set(&mut spec, config)?;
    remove_upstream_pads(&mut spec)?;
    add_pads(&mut spec, config)?;
    add_sites_and_camera(&mut spec, config)?;
    Ok(spec)
}

fn edit_message(e: &MjEditError) -> String {
    match e {
        MjEditError::ParseFailed(m)
        | MjEditError::CompileFailed(m)
        | MjEditError::SaveFailed(m)
        | MjEditError::OperationFailed(m)
        | MjEditError::InvalidParameter(m) => m.clone(),
        other => format!("{other:?}"),
    }
}

/// MuJoCo resolves an included file's mesh paths against the include's folder, not its
/// `meshdir`; point every mesh at the robot's mesh folder explicitly (also makes exports
/// standalone).
fn relocate_meshes(spec: &mut MjSpec, mesh_dir: &Path) -> Result<(), SceneError> {
    spec.compiler_mut().set_meshdir("");
    for mesh in spec.mesh_iter_mut() {
        let file_name = Path::new(mesh.file())
            .file_name()
            .map(|f| f.to_owned())
            .unwrap_or_default();
        let path = mesh_dir.join(&file_name);
        if !path.is_file() {
            return Err(SceneError::MissingMesh {
                mesh: mesh.name().to_owned(),
                path,
            });
        }
        mesh.set_file(&path.to_string_lossy());
    }
    Ok(())
}

fn apply_physics(spec: &mut MjSpec, config: &SceneConfig) {
    use crate::config::{Cone, Integrator, Solver};
    let p = &config.physics;
    let opt = spec.option_mut();
    opt.timestep = p.timestep_secs;
    opt.integrator = match p.integrator {
        Integrator::Euler => MjtIntegrator::mjINT_EULER,
        Integrator::Implicitfast => MjtIntegrator::mjINT_IMPLICITFAST,
        Integrator::Implicit => MjtIntegrator::mjINT_IMPLICIT,
        Integrator::Rk4 => MjtIntegrator::mjINT_RK4,
    } as i32;
    opt.solver = match p.solver {
        Solver::Newton => MjtSolver::mjSOL_NEWTON,
        Solver::Cg => MjtSolver::mjSOL_CG,
        Solver::Pgs => MjtSolver::mjSOL_PGS,
    } as i32;
    opt.cone = match p.cone {
        Cone::Elliptic => MjtCone::mjCONE_ELLIPTIC,
        Cone::Pyramidal => MjtCone::mjCONE_PYRAMIDAL,
    } as i32;
    opt.impratio = p.impratio;
    // Validated to 1..=1000 and 0..=100.
    opt.iterations = p.iterations as i32;
    opt.noslip_iterations = p.noslip_iterations as i32;
}

fn apply_actuators(spec: &mut MjSpec, config: &SceneConfig) -> Result<(), SceneError> {
    let a = &config.actuators;
    for name in names::ALL_JOINTS {
        let act = spec
            .actuator_mut(name)
            .ok_or_else(|| missing("actuator", name))?;
        let limit = if name == names::GRIPPER_JOINT {
            a.gripper_force_limit
        } else {
            a.arm_force_limit
        };
        *act.forcerange_mut() = [-limit, limit];
        // A position servo is gain kp on ctrl and bias -kp on the joint position.
        act.gainprm_mut()[0] = a.kp;
        act.biasprm_mut()[1] = -a.kp;
    }
    Ok(())
}

fn apply_cube(spec: &mut MjSpec, config: &SceneConfig) -> Result<(), SceneError> {
    let c = &config.cube;
    let half = c.size_m / 2.0;
    let geom = spec
        .geom_mut(names::CUBE_GEOM)
        .ok_or_else(|| missing("geom", names::CUBE_GEOM))?;
    *geom.size_mut() = [half; 3];
    geom.set_mass(c.mass_kg);
    *geom.friction_mut() = c.friction;
    let body = spec
        .world_body_mut()
        .child_mut(names::CUBE_BODY)
        .ok_or_else(|| missing("body", names::CUBE_BODY))?;
    body.pos_mut()[2] = half;
    Ok(())
}

/// Robot geoms: contype 2 / conaffinity 1. World geoms (floor, cube) keep 1 / 1. A pair collides
/// when (contype1 & conaffinity2) | (contype2 & conaffinity1) is non-zero, so the robot meets
/// the world but never itself.
const ROBOT_CONTYPE: i32 = 2;
const ROBOT_CONAFFINITY: i32 = 1;

fn set_robot_collision(geom: &mut MjsGeom, collides: bool, self_collision: bool) {
    if collides && self_collision {
        geom.set_contype(1);
        geom.set_conaffinity(1);
    } else if collides {
        geom.set_contype(ROBOT_CONTYPE);
        geom.set_conaffinity(ROBOT_CONAFFINITY);
    } else {
        geom.set_contype(0);
        geom.set_conaffinity(0);
    }
}

/// Upstream collision geoms are group-3 duplicates of the visual meshes. Keep the hulls of the
/// configured bodies, switch the rest off, and add the configured boxes.
fn apply_collision_set(spec: &mut MjSpec, config: &SceneConfig) -> Result<(), SceneError> {
    let c = &config.collision;
    for name in c
        .mesh_bodies
        .iter()
        .map(String::as_str)
        .chain(names::ALL_ROBOT_BODIES)
    {
        if spec.world_body().child(name).is_none() {
            return Err(missing("body", name));
        }
    }
    for body_name in names::ALL_ROBOT_BODIES {
        let keep = c.mesh_bodies.iter().any(|b| b == body_name);
        let body: &mut MjsBody = spec
            .world_body_mut()
            .child_mut(body_name)
            .ok_or_else(|| missing("body", body_name))?;
        for geom in body.geom_iter_mut(false) {
            if geom.group() == 3 && geom.contype() != 0 {
                set_robot_collision(geom, keep, c.self_collision);
            }
        }
    }
    for b in &c.boxes {
        let body = spec
            .world_body_mut()
            .child_mut(&b.body)
            .ok_or_else(|| missing("body", &b.body))?;
        let geom = body.add_geom();
        geom.set_name(&b.name).map_err(|e| SceneError::Edit {
            what: format!("add collision box `{}`", b.name),
            message: edit_message(&e),
        })?;
        geom.set_type(MjtGeomBase::mjGEOM_BOX);
        *geom.size_mut() = std::array::from_fn(|k| (b.max[k] - b.min[k]) / 2.0);
        *geom.pos_mut() = std::array::from_fn(|k| (b.max[k] + b.min[k]) / 2.0);
        geom.set_group(3);
        set_robot_collision(geom, true, c.self_collision);
        *geom.rgba_mut() = [0.3, 0.6, 1.0, 0.4];
    }
    Ok(())
}

fn remove_upstream_pads(spec: &mut MjSpec) -> Result<(), SceneError> {
    for name in names::UPSTREAM_PAD_GEOMS {
        // The upstream model may drop its pads one day; nothing to remove then.
        let Some(geom) = spec.geom_mut(name) else {
            continue;
        };
        // SAFETY: `geom` is a live element of `spec`, and the handle is not used after the
        // call (it goes out of scope at the end of this iteration).
        unsafe { geom.delete() }.map_err(|e| SceneError::Edit {
            what: format!("remove upstream pad `{name}`"),
            message: edit_message(&e),
        })?;
    }
    Ok(())
}

fn add_pads(spec: &mut MjSpec, config: &SceneConfig) -> Result<(), SceneError> {
    let p = &config.pads;
    let pads = [
        (
            names::GRIPPER_BODY,
            names::STATIC_PAD_GEOM,
            p.static_surface_point,
            p.static_surface_normal,
        ),
        (
            names::MOVING_JAW_BODY,
            names::MOVING_PAD_GEOM,
            p.moving_surface_point,
            p.moving_surface_normal,
        ),
    ];
    for (body_name, geom_name, point, normal) in pads {
        let (pos, quat) = pad_pose(point, normal, p.half_size_m[2], p.protrusion_m);
        let body = spec
            .world_body_mut()
            .child_mut(body_name)
            .ok_or_else(|| missing("body", body_name))?;
        let geom = body.add_geom();
        geom.set_name(geom_name).map_err(|e| SceneError::Edit {
            what: format!("name pad `{geom_name}`"),
            message: edit_message(&e),
        })?;
        geom.set_type(MjtGeomBase::mjGEOM_BOX);
        *geom.size_mut() = p.half_size_m;
        *geom.pos_mut() = pos;
        *geom.quat_mut() = quat;
        geom.set_group(3);
        set_robot_collision(geom, true, config.collision.self_collision);
        let k = &config.contact;
        *geom.friction_mut() = k.pad_friction;
        // Validated to one of 1, 3, 4, 6.
        geom.set_condim(k.pad_condim as i32);
        *geom.solref_mut() = k.pad_solref;
        *geom.solimp_mut() = k.pad_solimp;
        geom.set_solmix(k.pad_solmix);
        // Pads are small: give them a nominal mass so they do not shift the jaw inertia.
        geom.set_mass(0.0005);
        *geom.rgba_mut() = [0.1, 0.8, 0.3, 1.0];
    }
    Ok(())
}

/// Pad centre and orientation: pad z along the surface normal, face `protrusion` proud.
fn pad_pose(
    point: [f64; 3],
    normal: [f64; 3],
    half_depth: f64,
    protrusion: f64,
) -> ([f64; 3], [f64; 4]) {
    use nalgebra::{UnitQuaternion, Vector3};
    let n = Vector3::from(normal).normalize();
    let centre = Vector3::from(point) + n * (protrusion - half_depth);
    let rot = UnitQuaternion::rotation_between(&Vector3::z(), &n).unwrap_or_else(|| {
        UnitQuaternion::from_axis_angle(&Vector3::x_axis(), std::f64::consts::PI)
    });
    let q = rot.quaternion();
    (centre.into(), [q.w, q.i, q.j, q.k])
}

fn add_sites_and_camera(spec: &mut MjSpec, config: &SceneConfig) -> Result<(), SceneError> {
    let s = &config.sites;
    let site = spec
        .site_mut(names::GRIPPERFRAME_SITE)
        .ok_or_else(|| missing("site", names::GRIPPERFRAME_SITE))?;
    *site.pos_mut() = s.gripperframe_pos;
    let gripper_quat = *site.quat();
    let body = spec
        .world_body_mut()
        .child_mut(names::GRIPPER_BODY)
        .ok_or_else(|| missing("body", names::GRIPPER_BODY))?;
    let grasp = body.add_site();
    grasp
        .set_name(names::GRASPFRAME_SITE)
        .map_err(|e| SceneError::Edit {
            what: "add site graspframe".into(),
            message: edit_message(&e),
        })?;
    *grasp.pos_mut() = s.graspframe_pos;
    // Same orientation as the TCP so both frames read the same in overlays.
    *grasp.quat_mut() = gripper_quat;
    grasp.set_group(3);
    // A sphere reads only the radius; the other two are MuJoCo's defaults, which is what the
    // MJCF writer (it writes the radius alone) compiles back to, so the exported XML and the
    // model agree in every number.
    *grasp.size_mut() = [0.004, 0.005, 0.005];
    let cam = body.add_camera();
    cam.set_name(names::WRIST_CAMERA)
        .map_err(|e| SceneError::Edit {
            what: "add wrist camera".into(),
            message: edit_message(&e),
        })?;
    match &config.wrist_camera {
        Some(w) => {
            *cam.pos_mut() = w.pos;
            // MuJoCo converts the euler angles with the model's own `eulerseq` and angle unit,
            // exactly as it would the MJCF attribute.
            cam.alt_mut().set_euler(&w.euler);
            cam.set_fovy(w.fovy_deg);
        }
        None => {
            *cam.pos_mut() = s.wrist_camera_pos;
            *cam.quat_mut() = s.wrist_camera_quat;
            cam.set_fovy(s.wrist_camera_fovy_deg);
        }
    }
    Ok(())
}

fn missing(kind: &'static str, name: &str) -> SceneError {
    SceneError::MissingElement {
        kind,
        name: name.to_owned(),
    }
}
