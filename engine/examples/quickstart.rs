use engine::prelude::*; // World, Schedule, Storage, Layout, Strategy, Switch, Vec2, bundle!, with_rows!, ...

bundle! {
    /// A boid: declared once, stored as SoA columns or AoS rows.
    pub mod boid: Boid {
        /// Where it is.
        pub position: Vec2,
        /// Where it goes, per second.
        pub velocity: Vec2,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut world: World<Boid> = World::new(Strategy::default())?; // Err names a bad parameter
    for i in 0..1000 {
        let speed = 10.0 + i as f32 * 0.1;
        world.spawn(Boid {
            position: Vec2::ZERO,
            velocity: Vec2::new(speed, 0.0),
        });
    }
    let eaten = world.register_counter("eaten");

    let mut schedule: Schedule<Boid, ()> = Schedule::new();
    schedule.add("move", move |world: &mut World<Boid>, _: &mut ()| {
        let (storage, shared) = world.split(); // the rows, mutable, beside what systems share
        with_rows!(storage.rows_mut(), |rows| for_each_chunk(
            rows,
            shared.chunk_rows,
            &|chunk, first_row| {
                let mut commands = shared.commands.writer(first_row);
                chunk.for_each(|b: boid::Mut| {
                    *b.position += *b.velocity / 120.0;
                    if b.position.x > 100.0 {
                        commands.despawn(*b.entity); // applied after the system, in entity order
                        shared.counters.add(eaten, 1);
                    }
                })
            }
        ));
    })?;

    schedule.run(&mut world, &mut (), 600); // 600 steps on the world's thread pool
    world.request(Switch::Layout(Layout::Aos))?; // applied before the next step; nothing lost
    schedule.step(&mut world, &mut ());
    println!(
        "{} boids left, {} eaten",
        world.len(),
        world.counters().total(eaten)
    );
    println!("{:?}", world.times()); // per-system wall time, by name
    Ok(())
}
