//! Structure-of-arrays layout, generated per bundle by [`bundle!`](crate::bundle).

/// Declares a bundle: the row struct (the AoS element) and, in a module of the given name,
/// its SoA columns and row views, wired to [`Storage`](crate::storage::Storage).
///
/// Inside the module `$module` it generates:
/// - `Ref<'a>` / `Mut<'a>`: one row as a struct of references to its fields;
/// - `Columns`: one `Vec` per field (the SoA container);
/// - `ColumnsRef<'a>` / `ColumnsMut<'a>`: column slices with public fields, for systems
///   that want raw slices; they also implement [`Rows`](crate::storage::Rows).
///
/// Every bundle gets an `entity: Entity` field first. Declare bundles at module level (not
/// inside a function): field types are resolved in the enclosing module's scope.
///
/// ```
/// use engine::storage::{Layout, Rows, Storage};
/// use engine::{bundle, with_rows, entity::EntityAllocator};
///
/// bundle! {
///     /// A light in the scene.
///     pub mod light: Light {
///         /// Brightness in lumens.
///         pub lumens: f32,
///         /// Position.
///         pub at: [f32; 2],
///     }
/// }
///
/// # fn main() {
/// let mut entities = EntityAllocator::new();
/// let mut lights: Storage<Light> = Storage::new(Layout::Soa);
/// let e = entities.spawn();
/// lights.insert(Light { entity: e, lumens: 800.0, at: [0.0, 1.0] });
/// with_rows!(lights.rows_mut(), mut |rows| rows.for_each(|l: light::Mut| *l.lumens /= 2.0));
/// assert_eq!(lights.get(e).unwrap().lumens, 400.0);
/// # }
/// ```
#[macro_export]
macro_rules! bundle {
    (
        $(#[$meta:meta])*
        $vis:vis mod $module:ident : $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        $vis struct $name {
            /// The entity that owns this bundle.
            pub entity: $crate::entity::Entity,
            $( $(#[$fmeta])* $fvis $field: $ty, )*
        }

        impl $crate::storage::Bundle for $name {
            type Ref<'a> = $module::Ref<'a>;
            type Mut<'a> = $module::Mut<'a>;
            type Columns = $module::Columns;
            #[inline]
            fn entity(&self) -> $crate::entity::Entity {
                self.entity
            }
            #[inline]
            fn as_mut(&mut self) -> $module::Mut<'_> {
                $module::Mut { entity: &self.entity, $( $field: &mut self.$field, )* }
            }
            #[inline]
            fn as_ref(&self) -> $module::Ref<'_> {
                $module::Ref { entity: &self.entity, $( $field: &self.$field, )* }
            }
        }

        #[doc = concat!("SoA storage and row views of [`", stringify!($name), "`].")]
        $vis mod $module {
            #![allow(unused_imports)]
            use super::*;
            use $crate::entity::Entity;
            use $crate::storage::{DenseRows, Rows};

            /// One row, shared.
            #[derive(Clone, Copy)]
            pub struct Ref<'a> {
                /// The owning entity.
                pub entity: &'a Entity,
                $( #[allow(missing_docs)] pub $field: &'a $ty, )*
            }

            /// One row, mutable (the entity stays shared: it identifies the row).
            pub struct Mut<'a> {
                /// The owning entity.
                pub entity: &'a Entity,
                $( #[allow(missing_docs)] pub $field: &'a mut $ty, )*
            }

            /// One `Vec` per field, all of the same length.
            #[derive(Default, Clone, Debug)]
            pub struct Columns {
                entity: Vec<Entity>,
                $( $field: Vec<$ty>, )*
            }

            /// Shared column slices.
            #[derive(Clone, Copy)]
            pub struct ColumnsRef<'a> {
                /// Entities, one per row.
                pub entity: &'a [Entity],
                $( #[allow(missing_docs)] pub $field: &'a [$ty], )*
            }

            /// Mutable column slices (entities stay shared).
            pub struct ColumnsMut<'a> {
                /// Entities, one per row.
                pub entity: &'a [Entity],
                $( #[allow(missing_docs)] pub $field: &'a mut [$ty], )*
            }

            impl<'a> Rows<'a> for ColumnsRef<'a> {
                type Item = Ref<'a>;
                fn len(&self) -> usize {
                    self.entity.len()
                }
                fn split_at(self, mid: usize) -> (Self, Self) {
                    let (ea, eb) = self.entity.split_at(mid);
                    $( let $field = self.$field.split_at(mid); )*
                    (
                        ColumnsRef { entity: ea, $( $field: $field.0, )* },
                        ColumnsRef { entity: eb, $( $field: $field.1, )* },
                    )
                }
                #[inline]
                fn for_each(self, mut f: impl FnMut(Ref<'a>)) {
                    // Zipped slice iterators compile to one indexed loop with no per-column
                    // bounds checks, which LLVM can vectorise.
                    $crate::__private::izip!(self.entity.iter(), $( self.$field.iter() ),*)
                        .for_each(|(entity, $( $field ),*)| f(Ref { entity, $( $field, )* }));
                }
            }

            impl<'a> Rows<'a> for ColumnsMut<'a> {
                type Item = Mut<'a>;
                fn len(&self) -> usize {
                    self.entity.len()
                }
                fn split_at(self, mid: usize) -> (Self, Self) {
                    let (ea, eb) = self.entity.split_at(mid);
                    $( let $field = self.$field.split_at_mut(mid); )*
                    (
                        ColumnsMut { entity: ea, $( $field: $field.0, )* },
                        ColumnsMut { entity: eb, $( $field: $field.1, )* },
                    )
                }
                #[inline]
                fn for_each(self, mut f: impl FnMut(Mut<'a>)) {
                    $crate::__private::izip!(self.entity.iter(), $( self.$field.iter_mut() ),*)
                        .for_each(|(entity, $( $field ),*)| f(Mut { entity, $( $field, )* }));
                }
            }

            impl DenseRows<super::$name> for Columns {
                type Ref<'a> = ColumnsRef<'a>;
                type Mut<'a> = ColumnsMut<'a>;
                fn len(&self) -> usize {
                    self.entity.len()
                }
                fn capacity(&self) -> usize {
                    self.entity.capacity() $( .min(self.$field.capacity()) )*
                }
                fn heap_bytes(&self) -> usize {
                    self.entity.capacity() * size_of::<Entity>()
                        $( + self.$field.capacity() * size_of::<$ty>() )*
                }
                fn reserve(&mut self, additional: usize) {
                    self.entity.reserve(additional);
                    $( self.$field.reserve(additional); )*
                }
                fn push(&mut self, row: super::$name) {
                    self.entity.push(row.entity);
                    $( self.$field.push(row.$field); )*
                }
                fn clear(&mut self) {
                    self.entity.clear();
                    $( self.$field.clear(); )*
                }
                fn swap_remove(&mut self, i: usize) -> super::$name {
                    super::$name {
                        entity: self.entity.swap_remove(i),
                        $( $field: self.$field.swap_remove(i), )*
                    }
                }
                fn get(&self, i: usize) -> super::$name {
                    super::$name { entity: self.entity[i], $( $field: self.$field[i], )* }
                }
                fn set(&mut self, i: usize, row: super::$name) {
                    self.entity[i] = row.entity;
                    $( self.$field[i] = row.$field; )*
                }
                fn entity(&self, i: usize) -> Entity {
                    self.entity[i]
                }
                fn row_mut(&mut self, i: usize) -> Mut<'_> {
                    Mut { entity: &self.entity[i], $( $field: &mut self.$field[i], )* }
                }
                fn rows(&self) -> ColumnsRef<'_> {
                    ColumnsRef { entity: &self.entity, $( $field: &self.$field, )* }
                }
                fn rows_mut(&mut self) -> ColumnsMut<'_> {
                    ColumnsMut { entity: &self.entity, $( $field: &mut self.$field, )* }
                }
            }
        }
    };
}
