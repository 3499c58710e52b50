//! A list grown in fixed-size blocks: growing never copies what is already held (a `Vec`
//! doubling its buffer briefly needs three times the space of its items), and a list consumed
//! by value frees each block as soon as it is passed. For the per-row state one pass over a
//! large file keeps.

use std::iter::Flatten;
use std::ops::{Index, IndexMut};
use std::vec;

/// Items per block.
const BLOCK: usize = 4096;

/// A list of `T` in blocks of 4,096 items.
pub struct Blocks<T> {
    blocks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Blocks<T> {
    fn default() -> Self {
        Blocks {
            blocks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Blocks<T> {
    /// Appends `item`.
    pub fn push(&mut self, item: T) {
        match self.blocks.last_mut() {
            Some(block) if block.len() < BLOCK => block.push(item),
            _ => {
                let mut block = Vec::with_capacity(BLOCK);
                block.push(item);
                self.blocks.push(block);
            }
        }
        self.len += 1;
    }

    /// How many items it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The items in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.blocks.iter().flatten()
    }

    /// The items in order, to change them.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.blocks.iter_mut().flatten()
    }

    /// The `index`-th item, if there is one.
    pub fn get(&self, index: usize) -> Option<&T> {
        // Every block but the last is full.
        self.blocks.get(index / BLOCK)?.get(index % BLOCK)
    }
}

impl<T> Index<usize> for Blocks<T> {
    type Output = T;

    fn index(&self, index: usize) -> &T {
        &self.blocks[index / BLOCK][index % BLOCK]
    }
}

impl<T> IndexMut<usize> for Blocks<T> {
    fn index_mut(&mut self, index: usize) -> &mut T {
        &mut self.blocks[index / BLOCK][index % BLOCK]
    }
}

impl<T> FromIterator<T> for Blocks<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut blocks = Blocks::default();
        for item in items {
            blocks.push(item);
        }
        blocks
    }
}

impl<T> IntoIterator for Blocks<T> {
    type Item = T;
    type IntoIter = Flatten<vec::IntoIter<Vec<T>>>;

    /// The items in order; each block is freed once its last item is passed.
    fn into_iter(self) -> Self::IntoIter {
        self.blocks.into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_keep_their_order_across_blocks() {
        let blocks: Blocks<usize> = (0..BLOCK * 2 + 3).collect();
        assert_eq!(blocks.len(), BLOCK * 2 + 3);
        assert_eq!(blocks.blocks.len(), 3);
        assert!(blocks.iter().copied().eq(0..BLOCK * 2 + 3));
        assert_eq!(
            (blocks[BLOCK + 1], blocks.get(BLOCK * 2 + 2)),
            (BLOCK + 1, Some(&(BLOCK * 2 + 2)))
        );
        assert_eq!(blocks.get(BLOCK * 2 + 3), None);
        let mut blocks = blocks;
        blocks[BLOCK] = 7;
        blocks.iter_mut().take(1).for_each(|first| *first = 9);
        assert_eq!((blocks[0], blocks[BLOCK]), (9, 7));
        let mut expected: Vec<usize> = (0..BLOCK * 2 + 3).collect();
        (expected[0], expected[BLOCK]) = (9, 7);
        assert!(blocks.into_iter().eq(expected));
        assert_eq!(Blocks::<u8>::default().iter().count(), 0);
    }
}
