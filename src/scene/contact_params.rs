//! The contact parameters MuJoCo actually uses between two geoms (its mixing rules), so users
//! can see what is effective instead of what they wrote.

use mujoco_rs::prelude::*;

use super::BuiltScene;

/// Effective parameters of one geom pair, by MuJoCo's rules for contacts without an explicit
/// `<pair>`: higher priority wins outright; otherwise friction is the element-wise max, condim
/// the max, and solref/solimp are averaged with weights from `solmix`.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveContact {
    /// The two geoms.
    pub geoms: [String; 2],
    /// Sliding, torsional, rolling friction.
    pub friction: [f64; 3],
    /// Contact dimensionality.
    pub condim: i32,
    /// Mixed solref.
    pub solref: [f64; 2],
    /// Mixed solimp.
    pub solimp: [f64; 5],
}

impl std::fmt::Display for EffectiveContact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} <-> {}", self.geoms[0], self.geoms[1])?;
        writeln!(f, "  friction (slide, spin, roll): {:?}", self.friction)?;
        writeln!(f, "  condim:                      {}", self.condim)?;
        writeln!(f, "  solref:                      {:?}", self.solref)?;
        write!(f, "  solimp:                      {:?}", self.solimp)
    }
}

/// Effective contact parameters of geoms `g1` and `g2` of `model`.
pub fn effective_contact(model: &MjModel, g1: usize, g2: usize) -> EffectiveContact {
    let name = |g| {
        model
            .id_to_name(MjtObjBase::mjOBJ_GEOM, g)
            .unwrap_or("?")
            .to_owned()
    };
    let priority = model.geom_priority();
    let friction = model.geom_friction();
    let condim = model.geom_condim();
    let solref = model.geom_solref();
    let solimp = model.geom_solimp();
    let solmix = model.geom_solmix();
    let (p1, p2) = (priority[g1], priority[g2]);
    if p1 != p2 {
        let g = if p1 > p2 { g1 } else { g2 };
        return EffectiveContact {
            geoms: [name(g1), name(g2)],
            friction: friction[g],
            condim: condim[g],
            solref: solref[g],
            solimp: solimp[g],
        };
    }
    let (m1, m2) = (solmix[g1], solmix[g2]);
    let w = if m1 + m2 < 1e-15 { 0.5 } else { m1 / (m1 + m2) };
    let mix = |a: f64, b: f64| w * a + (1.0 - w) * b;
    let mut f = [0.0; 3];
    for (i, fi) in f.iter_mut().enumerate() {
        *fi = friction[g1][i].max(friction[g2][i]);
    }
    let mut sr = [0.0; 2];
    for (i, s) in sr.iter_mut().enumerate() {
        *s = mix(solref[g1][i], solref[g2][i]);
    }
    let mut si = [0.0; 5];
    for (i, s) in si.iter_mut().enumerate() {
        *s = mix(solimp[g1][i], solimp[g2][i]);
    }
    EffectiveContact {
        geoms: [name(g1), name(g2)],
        friction: f,
        condim: condim[g1].max(condim[g2]),
        solref: sr,
        solimp: si,
    }
}

/// Effective parameters of both pad-cube pairs (static first).
pub fn effective_pad_cube_contact(scene: &BuiltScene) -> [EffectiveContact; 2] {
    let h = &scene.handles;
    [
        effective_contact(&scene.model, h.static_pad_geom, h.cube_geom),
        effective_contact(&scene.model, h.moving_pad_geom, h.cube_geom),
    ]
}
