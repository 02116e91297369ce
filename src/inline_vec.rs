//! A vector that lives on the stack up to `N` elements and moves to the heap
//! beyond. The hot paths build key names and effect argument lists on every
//! command, and heap allocations are what a session read spends most of its
//! time on; the fallback means an unusually long input is never cut short.

pub struct InlineVec<T: Copy, const N: usize> {
    inline: [T; N],
    len: usize,
    heap: Option<Vec<T>>,
}

impl<T: Copy, const N: usize> InlineVec<T, N> {
    /// An empty vector; `fill` only initialises the unused stack slots.
    pub fn new(fill: T) -> Self {
        InlineVec {
            inline: [fill; N],
            len: 0,
            heap: None,
        }
    }

    pub fn extend_from_slice(&mut self, items: &[T]) {
        if let Some(heap) = &mut self.heap {
            heap.extend_from_slice(items);
        } else if let Some(room) = self.inline.get_mut(self.len..self.len + items.len()) {
            room.copy_from_slice(items);
            self.len += items.len();
        } else {
            let mut heap = self.inline[..self.len].to_vec();
            heap.extend_from_slice(items);
            self.heap = Some(heap);
        }
    }

    pub fn as_slice(&self) -> &[T] {
        match &self.heap {
            Some(heap) => heap,
            None => &self.inline[..self.len],
        }
    }
}

impl<T: Copy, const N: usize> std::ops::Deref for InlineVec<T, N> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_to_the_heap_without_losing_anything() {
        let mut v: InlineVec<u8, 4> = InlineVec::new(0);
        v.extend_from_slice(b"ab");
        v.extend_from_slice(b"cd");
        assert_eq!(v.as_slice(), b"abcd");
        v.extend_from_slice(b"e");
        v.extend_from_slice(b"fg");
        assert_eq!(v.as_slice(), b"abcdefg");
    }
}
