//! The view's decimated meshes (`view --meshes`, the L key): they are the observation renderer's
//! own meshes (its cache, its error), an order of magnitude fewer triangles than MuJoCo's, and
//! the toggle swaps the mesh handle of every mesh geom in a headless app. `auto` takes them on a
//! software render adapter only.

#[cfg(feature = "app")]
mod lod {
    use std::sync::Arc;

    use bevy::ecs::system::RunSystemOnce;
    use bevy::prelude::*;
    use so101_lab::app::materials::{GridMaterial, XrayMaterial};
    use so101_lab::app::scene_render::{self, GeomMaterials, GeomMesh};
    use so101_lab::app::shortcuts;
    use so101_lab::app::state::{
        LoadedScene, MeshDetail, MeshDetailSettings, SimResource, is_software_adapter,
        lod_mesh_error_m,
    };
    use so101_lab::render::{RenderOptions, Renderer};
    use so101_lab::scene::visual::GeomShape;
    use so101_lab::task::ImageObsConfig;

    use crate::app_common;

    #[test]
    fn decimated_meshes_are_the_observation_renderers_and_far_smaller() {
        let app = app_common::app(&[]);
        let loaded = app.world().resource::<LoadedScene>();
        let model = app
            .world()
            .resource::<SimResource>()
            .session
            .env()
            .sim()
            .model();
        let error = lod_mesh_error_m();
        assert_eq!(error, ImageObsConfig::default().render_mesh_error_m());
        assert_eq!(error, RenderOptions::for_size(84, 84).mesh_error_m);
        assert_eq!(loaded.lod_meshes.len(), loaded.visuals.meshes.len());

        // The robot: every mesh geom on a body other than the world and the cube.
        let cube = loaded.handles.cube_body;
        let (mut full, mut lod) = (0usize, 0usize);
        for g in &loaded.visuals.geoms {
            if let GeomShape::Mesh { mesh } = g.shape
                && g.body != 0
                && g.body != cube
            {
                full += loaded.visuals.meshes[mesh].triangles();
                lod += loaded.lod_meshes[mesh].triangles();
            }
        }
        eprintln!("robot mesh triangles: full {full}, decimated {lod}");
        assert!(full > 100_000, "the robot has only {full} mesh triangles");
        assert!(
            lod > 0 && lod * 10 < full,
            "decimated {lod} triangles is not under a tenth of {full}"
        );

        // The same meshes the renderers share (one cache per process), not a second copy.
        for (m, mesh) in loaded.lod_meshes.iter().enumerate() {
            let shared = so101_lab::render::render_mesh(model, m, error);
            assert!(Arc::ptr_eq(mesh, &shared), "mesh {m} is not the renderer's");
        }

        // Independently of that cache: the observation renderer (84x84) and the same renderer
        // with full meshes differ by exactly the triangles the app saves on the geoms it draws.
        let options = RenderOptions::for_size(84, 84);
        let decimated = Renderer::new(model, options).expect("renderer").triangles();
        let with_full = Renderer::new(model, options.full_meshes())
            .expect("renderer")
            .triangles();
        let saved: usize = loaded
            .visuals
            .geoms
            .iter()
            .filter(|g| options.groups[g.group] && g.rgba[3] > 0.0)
            .filter_map(|g| match g.shape {
                GeomShape::Mesh { mesh } => Some(
                    loaded.visuals.meshes[mesh].triangles() - loaded.lod_meshes[mesh].triangles(),
                ),
                _ => None,
            })
            .sum();
        assert_eq!(with_full - decimated, saved);
        assert_eq!(
            loaded.mesh_triangles(false) - loaded.mesh_triangles(true),
            loaded
                .visuals
                .geoms
                .iter()
                .filter_map(|g| match g.shape {
                    GeomShape::Mesh { mesh } => Some(
                        loaded.visuals.meshes[mesh].triangles()
                            - loaded.lod_meshes[mesh].triangles()
                    ),
                    _ => None,
                })
                .sum::<usize>()
        );
    }

    /// Every mesh geom entity's (geom id, mesh handle), by geom id.
    fn mesh_handles(world: &mut World) -> Vec<(usize, Handle<Mesh>)> {
        let mut q = world.query::<(&GeomMesh, &Mesh3d)>();
        let mut out: Vec<(usize, Handle<Mesh>)> =
            q.iter(world).map(|(g, m)| (g.geom, m.0.clone())).collect();
        out.sort_by_key(|(g, _)| *g);
        out
    }

    /// A fresh press of L, then the shortcuts and the mesh swap.
    fn press_l(world: &mut World) {
        {
            let mut keys = world.resource_mut::<ButtonInput<KeyCode>>();
            keys.release(KeyCode::KeyL);
            keys.clear();
            keys.press(KeyCode::KeyL);
        }
        world
            .run_system_once(shortcuts::viewer_shortcuts)
            .expect("shortcuts");
        world
            .run_system_once(scene_render::apply_mesh_detail)
            .expect("mesh detail");
    }

    #[test]
    fn the_l_key_swaps_every_mesh_geom_between_full_and_decimated() {
        let mut app = app_common::app(&["--meshes", "full"]);
        let world = app.world_mut();
        world.init_resource::<Assets<Mesh>>();
        world.init_resource::<Assets<StandardMaterial>>();
        world.init_resource::<Assets<XrayMaterial>>();
        world.init_resource::<Assets<GridMaterial>>();
        world.init_resource::<GeomMaterials>();
        world
            .run_system_once(scene_render::spawn_scene)
            .expect("spawn");
        world
            .run_system_once(scene_render::apply_mesh_detail)
            .expect("mesh detail");
        let loaded = world.resource::<LoadedScene>().clone();
        let (full, lod): (Vec<_>, Vec<_>) = {
            let m = world.resource::<GeomMaterials>();
            let full = m
                .meshes
                .iter()
                .map(|x| x.as_ref().map(|(h, _)| h.clone()))
                .collect();
            (full, m.lod_meshes.clone())
        };
        assert!(!world.resource::<MeshDetailSettings>().lod());

        let before = mesh_handles(world);
        let mesh_geoms = loaded
            .visuals
            .geoms
            .iter()
            .filter(|g| matches!(g.shape, GeomShape::Mesh { .. }))
            .count();
        assert_eq!(before.len(), mesh_geoms, "one GeomMesh per mesh geom");
        for (g, h) in &before {
            assert_eq!(
                Some(h),
                full[*g].as_ref(),
                "geom {g} starts on its full mesh"
            );
        }

        press_l(world);
        assert!(world.resource::<MeshDetailSettings>().lod());
        let after = mesh_handles(world);
        assert_eq!(after.len(), before.len());
        for (g, h) in &after {
            assert_eq!(
                Some(h),
                lod[*g].as_ref(),
                "geom {g} is not on its decimated mesh"
            );
            let GeomShape::Mesh { mesh } = loaded.visuals.geoms[*g].shape else {
                panic!("geom {g} is not a mesh geom");
            };
            let bevy_mesh = world
                .resource::<Assets<Mesh>>()
                .get(h)
                .expect("the decimated mesh is an asset");
            assert_eq!(
                bevy_mesh.indices().map(|i| i.len()),
                Some(loaded.lod_meshes[mesh].indices.len()),
                "geom {g} draws other triangles than the observation renderer's"
            );
        }

        press_l(world);
        assert!(!world.resource::<MeshDetailSettings>().lod());
        assert_eq!(
            mesh_handles(world),
            before,
            "the toggle goes back to the full meshes"
        );
    }

    #[test]
    fn auto_takes_decimated_meshes_on_software_adapters_only() {
        assert!(is_software_adapter(
            "llvmpipe (LLVM 15.0.7, 256 bits)",
            "Cpu"
        ));
        assert!(is_software_adapter("Mesa lavapipe", "Other"));
        assert!(!is_software_adapter("NVIDIA H100 80GB HBM3", "DiscreteGpu"));
        assert!(!is_software_adapter(
            "AMD Radeon Graphics (RADV)",
            "IntegratedGpu"
        ));

        let mut auto = MeshDetailSettings::new(MeshDetail::Auto);
        assert!(!auto.lod(), "full meshes until the adapter is known");
        auto.adapter_known("llvmpipe (Cpu, Vulkan)".into(), true);
        assert!(auto.lod());
        let mut gpu = MeshDetailSettings::new(MeshDetail::Auto);
        gpu.adapter_known("NVIDIA (DiscreteGpu, Vulkan)".into(), false);
        assert!(!gpu.lod());
        let mut asked = MeshDetailSettings::new(MeshDetail::Full);
        asked.adapter_known("llvmpipe (Cpu, Vulkan)".into(), true);
        assert!(!asked.lod(), "an explicit --meshes full wins over auto");
        let mut toggled = MeshDetailSettings::new(MeshDetail::Auto);
        toggled.toggle();
        toggled.adapter_known("NVIDIA (DiscreteGpu, Vulkan)".into(), false);
        assert!(
            toggled.lod(),
            "a toggle before the adapter is known is kept"
        );
    }
}
