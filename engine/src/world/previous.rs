//! One field of every entity as it was at the start of the step, kept in the frame arena
//! and matched to the rows as they are now: what a renderer interpolates from.
//!
//! [`Previous::capture`] copies the field into the current frame arena
//! ([`Storage::stash_of`]) and marks the storage's row origins
//! ([`Storage::mark_origins`]). The step then moves rows as it likes (despawns swap-remove,
//! spawns append or take a dead entity's row, a system may permute); [`Previous::view`] reads the copy through the
//! origins, so row `i` of the view is the entity of row `i` now. The copy lives in the frame
//! arena: the next swap keeps it readable, the one after reclaims it, and the view then
//! resolves to `None`, never to stale data.

use super::World;
use crate::arena::FrameSlice;
#[cfg(doc)]
use crate::storage::Storage;
use crate::storage::{Bundle, Field};

/// Field `T` of every row at the last capture. See [the module](self).
///
/// ```
/// use engine::prelude::*;
/// use engine::particles::{particle, Particle};
/// use engine::world::Previous;
///
/// let mut world: World<Particle> = World::new(Strategy::default())?;
/// let a = world.spawn(Particle::at(Vec2::ZERO, Vec2::ZERO));
/// world.spawn(Particle::at(Vec2::ONE, Vec2::ZERO));
/// let mut before = Previous::new(particle::FIELDS.position);
/// before.capture(&mut world);
/// world.despawn(a); // the last row moves into row 0
/// let moved = world.storage().entity_at(0).unwrap();
/// world.get_mut(moved).unwrap().position.x = 5.0;
/// let view = before.view(&world).unwrap();
/// assert_eq!(view.get(0), Some(Vec2::ONE)); // row 0's entity, before it moved
/// # Ok::<(), engine::error::ParamError>(())
/// ```
pub struct Previous<B: Bundle, T> {
    field: Field<B, T>,
    capture: Option<(FrameSlice<T>, u64)>,
}

impl<B: Bundle, T: Copy + Send + Sync> Previous<B, T> {
    /// Keeps `field`; nothing is captured yet.
    pub fn new(field: Field<B, T>) -> Self {
        Previous {
            field,
            capture: None,
        }
    }

    /// Copies the field of every row into the current frame arena and starts following row
    /// moves from here. Call it at the start of a step (a first system), once per step. A
    /// storage follows one set of origins: capture every `Previous` of a world together.
    pub fn capture(&mut self, world: &mut World<B>) {
        let (storage, shared) = world.split();
        let stash = storage.stash_of(self.field, shared.frames);
        self.capture = Some((stash, storage.mark_origins()));
    }

    /// The captured values, matched to the current rows; `None` before the first capture,
    /// once the capture's frame arena has been reset, or after another mark of the origins.
    pub fn view<'w>(&self, world: &'w World<B>) -> Option<PreviousView<'w, T>> {
        let (stash, mark) = self.capture.as_ref()?;
        Some(PreviousView {
            values: world.frames().get(stash)?,
            origins: world.storage().origins_since(*mark)?,
        })
    }
}

/// Captured values read through the rows' origins (see [`Previous::view`]).
#[derive(Clone, Copy)]
pub struct PreviousView<'w, T> {
    values: &'w [T],
    origins: &'w [u32],
}

impl<'w, T: Copy> PreviousView<'w, T> {
    /// Row `row`'s value at the capture; `None` for a row spawned since, or past the end.
    #[inline]
    pub fn get(&self, row: usize) -> Option<T> {
        let origin = *self.origins.get(row)?;
        self.values.get(origin as usize).copied()
    }

    /// Writes the captured value of each of rows `first..first + out.len()` into its slot
    /// of `out`, in one pass (what [`PreviousView::get`] gives row by row). The slot of a row
    /// spawned since the capture, or past the last row, keeps what it holds: fill `out`
    /// with the current values first to get "where it was, else where it is".
    ///
    /// ```
    /// use engine::prelude::*;
    /// use engine::particles::{particle, Particle};
    /// use engine::world::Previous;
    ///
    /// let mut world: World<Particle> = World::new(Strategy::default())?;
    /// world.spawn(Particle::at(Vec2::ONE, Vec2::ZERO));
    /// let mut before = Previous::new(particle::FIELDS.position);
    /// before.capture(&mut world);
    /// world.spawn(Particle::at(Vec2::X, Vec2::ZERO)); // row 1: spawned since
    /// let mut out = [Vec2::NEG_ONE; 3];
    /// before.view(&world).unwrap().copy_into(0, &mut out);
    /// assert_eq!(out, [Vec2::ONE, Vec2::NEG_ONE, Vec2::NEG_ONE]);
    /// # Ok::<(), engine::error::ParamError>(())
    /// ```
    pub fn copy_into(&self, first: usize, out: &mut [T]) {
        let origins = self.origins.get(first..).unwrap_or_default();
        for (slot, &origin) in out.iter_mut().zip(origins) {
            if let Some(&value) = self.values.get(origin as usize) {
                *slot = value;
            }
        }
    }

    /// The captured values of rows `first..first + len` as one slice, read in place, when
    /// every one of those rows holds the entity it held at the capture (none moved, none
    /// spawned since); else `None`, and [`PreviousView::copy_into`] gathers them. Most rows
    /// of a step stay where they are, so a reader that takes blocks of rows skips the
    /// gather for most of them.
    ///
    /// ```
    /// use engine::prelude::*;
    /// use engine::particles::{particle, Particle};
    /// use engine::world::Previous;
    ///
    /// let mut world: World<Particle> = World::new(Strategy::default())?;
    /// let a = world.spawn(Particle::at(Vec2::ZERO, Vec2::ZERO));
    /// world.spawn(Particle::at(Vec2::ONE, Vec2::ZERO));
    /// world.spawn(Particle::at(Vec2::X, Vec2::ZERO));
    /// let mut before = Previous::new(particle::FIELDS.position);
    /// before.capture(&mut world);
    /// let view = before.view(&world).unwrap();
    /// assert_eq!(view.unmoved(1, 2), Some(&[Vec2::ONE, Vec2::X][..]));
    /// world.despawn(a); // the last row moves into row 0
    /// let view = before.view(&world).unwrap();
    /// assert_eq!(view.unmoved(0, 2), None);
    /// assert_eq!(view.unmoved(1, 1), Some(&[Vec2::ONE][..]));
    /// # Ok::<(), engine::error::ParamError>(())
    /// ```
    #[inline]
    pub fn unmoved(&self, first: usize, len: usize) -> Option<&'w [T]> {
        let end = first.checked_add(len)?;
        let origins = self.origins.get(first..end)?;
        let rows = u32::try_from(first).ok()?..u32::try_from(end).ok()?;
        // No early exit, so the comparison vectorises.
        let same = origins
            .iter()
            .zip(rows)
            .fold(true, |same, (&o, r)| same & (o == r));
        if same {
            self.values.get(first..end)
        } else {
            None
        }
    }

    /// Rows now.
    pub fn len(&self) -> usize {
        self.origins.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.origins.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::particles::{Particle, particle};
    use crate::world::{Schedule, Strategy};
    use glam::Vec2;

    #[test]
    fn a_capture_is_readable_for_two_steps_then_never_again() {
        let mut world: World<Particle> = World::new(Strategy {
            threads: 1,
            ..Strategy::default()
        })
        .unwrap();
        world.spawn(Particle::at(Vec2::ONE, Vec2::ZERO));
        let mut previous = Previous::new(particle::FIELDS.position);
        assert!(previous.view(&world).is_none(), "nothing captured yet");
        previous.capture(&mut world);
        let mut idle: Schedule<Particle, ()> = Schedule::new();
        idle.step(&mut world, &mut ());
        assert_eq!(previous.view(&world).unwrap().get(0), Some(Vec2::ONE));
        idle.step(&mut world, &mut ());
        assert!(
            previous.view(&world).is_none(),
            "its frame arena has been reset: no stale read"
        );
    }

    #[test]
    fn spawned_rows_have_no_previous_value() {
        let mut world: World<Particle> = World::new(Strategy::default()).unwrap();
        world.spawn(Particle::at(Vec2::ONE, Vec2::ZERO));
        let mut previous = Previous::new(particle::FIELDS.position);
        previous.capture(&mut world);
        world.spawn(Particle::at(Vec2::X, Vec2::ZERO));
        let view = previous.view(&world).unwrap();
        assert_eq!(
            (view.len(), view.get(0), view.get(1)),
            (2, Some(Vec2::ONE), None)
        );
        assert_eq!(view.get(2), None, "past the end");
    }

    #[test]
    fn copy_into_agrees_with_get_row_by_row() {
        let mut world: World<Particle> = World::new(Strategy {
            threads: 1,
            ..Strategy::default()
        })
        .unwrap();
        let entities: Vec<_> = (0..300)
            .map(|i| world.spawn(Particle::at(Vec2::splat(i as f32), Vec2::ZERO)))
            .collect();
        let mut previous = Previous::new(particle::FIELDS.position);
        previous.capture(&mut world);
        for &e in entities.iter().step_by(7) {
            world.despawn(e);
        }
        for i in 0..40 {
            world.spawn(Particle::at(Vec2::new(-1.0, i as f32), Vec2::ZERO));
        }
        let view = previous.view(&world).unwrap();
        let now = |row: usize| Vec2::new(1000.0 + row as f32, 0.0);
        for (first, len) in [
            (0, 64),
            (5, 64),
            (1, 6),
            (250, 64),
            (290, 64),
            (400, 3),
            (0, 0),
        ] {
            let mut out: Vec<Vec2> = (first..first + len).map(now).collect();
            view.copy_into(first, &mut out);
            let want: Vec<Vec2> = (first..first + len)
                .map(|row| view.get(row).unwrap_or(now(row)))
                .collect();
            assert_eq!(out, want, "rows {first}..{}", first + len);
            let moved =
                (first..first + len).any(|row| view.origins.get(row) != Some(&(row as u32)));
            match view.unmoved(first, len) {
                Some(values) => assert_eq!(values, want, "rows {first}..{}", first + len),
                None => assert!(moved, "rows {first}..{} are where they were", first + len),
            }
        }
        let rows_8_to_13: Vec<Vec2> = (8..14).map(|i| Vec2::splat(i as f32)).collect();
        assert_eq!(
            view.unmoved(8, 6),
            Some(&rows_8_to_13[..]),
            "no row of 8..14 moved"
        );
        assert_eq!(
            view.unmoved(0, 8),
            None,
            "row 0 was despawned: the last row moved in"
        );
        assert_eq!(
            view.unmoved(299, 2),
            None,
            "297 rows now: row 300 is past the end"
        );
        let mut spawned = [Vec2::ZERO; 40];
        view.copy_into(view.len() - 40, &mut spawned);
        assert_eq!(
            spawned,
            [Vec2::ZERO; 40],
            "rows spawned since keep their slots"
        );
    }
}
