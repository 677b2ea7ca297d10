//! The paired pass: this VM's speed drifts by ±20% within minutes, and criterion times one
//! contender after another, so two medians taken 10 s apart can differ by more than the
//! 5-10% the targets ask about. Here, for each N and thread count, every contender is built
//! once, then `rounds` rounds each time every contender for one slot of ~20 ms (starting at
//! a different contender each round). Ratios are taken within a round, between slots a few
//! hundred ms apart, so the drift cancels; the table gives their medians over the rounds.

use crate::contenders::{Contender, Pools, SIZES};
use crate::kernels::{BOUNCES, BOUNDS};
use benches::Particles;
use std::hint::black_box;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// Wall time per timed slot of the paired pass.
const SLOT: Duration = Duration::from_millis(20);

/// Runs the pass, `rounds` rounds, and prints its table (markdown) on stdout.
pub fn run(rounds: usize) {
    let pools = Pools::checked();
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "paired pass: {rounds} rounds of one ~{} ms slot per contender; medians over rounds",
        SLOT.as_millis()
    );
    println!();
    println!(
        "| N | threads | contender | ns/particle/step | / best peer | / hand_soa | / stream |"
    );
    println!("|---:|---:|---|---:|---:|---:|---:|");
    for n in SIZES {
        let particles = Particles::random(n, BOUNDS);
        for on in pools.each() {
            let threads = on.count;
            let mut contenders = Contender::ALL.map(|c| c.build(&particles, on, &pools));
            // Steps per slot, from one timed step of each contender after a warm-up step.
            let steps = contenders.each_mut().map(|c| {
                c.time(1);
                let one = c.time(1);
                (SLOT.as_secs_f64() / one.as_secs_f64().max(1e-9)).clamp(1.0, 1e6) as u32
            });
            // ns per particle per step: [round][contender].
            let mut times = vec![vec![0.0; contenders.len()]; rounds];
            for (round, row) in times.iter_mut().enumerate() {
                for k in 0..contenders.len() {
                    let i = (round + k) % contenders.len();
                    let elapsed = contenders[i].time(u64::from(steps[i]));
                    row[i] = elapsed.as_secs_f64() * 1e9 / f64::from(steps[i]) / n as f64;
                }
            }
            let index = |contender| {
                Contender::ALL
                    .iter()
                    .position(|&c| c == contender)
                    .expect("every contender is in ALL")
            };
            let (hand, stream) = (index(Contender::HandSoa), index(Contender::Stream));
            let per_round =
                |f: &dyn Fn(&[f64]) -> f64| median(times.iter().map(|r| f(r)).collect());
            // The best peer is the one with the lowest median (not the fastest peer of each
            // round: a minimum over seven noisy slots is biased low).
            let best = Contender::ALL
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_peer())
                .map(|(p, _)| (per_round(&|r| r[p]), p))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, p)| p)
                .expect("peers");
            for (i, contender) in Contender::ALL.iter().enumerate() {
                let name = contender.name();
                let ns = per_round(&|r| r[i]);
                let to_best = per_round(&|r| r[i] / r[best]);
                let to_hand = per_round(&|r| r[i] / r[hand]);
                let to_stream = per_round(&|r| r[i] / r[stream]);
                let mark = if i == best { " (best peer)" } else { "" };
                println!(
                    "| {n} | {threads} | `{name}`{mark} | {ns:.3} | {to_best:.3} | {to_hand:.3} | {to_stream:.3} |"
                );
            }
        }
    }
    black_box(BOUNCES.load(Relaxed));
}
