//! Judged sessions back in the order their connections began, within a bounded window: the
//! importer hands connections over as they end, and a session that ends long after later
//! ones began (a client chatting for hours) must not hold every later result in memory.

use std::collections::BTreeMap;

/// Results waiting for an earlier connection, at most; past it the earliest waiting one goes
/// out, so a connection that ends more than this many sessions late is reported when it ends.
pub const WINDOW: usize = 256;

/// Items numbered by when their connection began, released in that order as the numbers
/// before them arrive (numbers of connections that carried nothing never do: the window
/// moves past them).
pub struct InOrder<T> {
    next: u64,
    waiting: BTreeMap<u64, T>,
    window: usize,
}

impl<T> InOrder<T> {
    pub fn new(window: usize) -> InOrder<T> {
        InOrder {
            next: 0,
            waiting: BTreeMap::new(),
            window: window.max(1),
        }
    }

    /// Item number `id`; `out` receives every item now due, in order.
    pub fn push(&mut self, id: u64, item: T, out: &mut impl FnMut(T)) {
        if id < self.next {
            // Its place has passed: it goes out now.
            out(item);
            return;
        }
        self.waiting.insert(id, item);
        loop {
            let full = self.waiting.len() > self.window;
            let Some(entry) = self.waiting.first_entry() else {
                break;
            };
            if *entry.key() != self.next && !full {
                break;
            }
            self.next = entry.key() + 1;
            out(entry.remove());
        }
    }

    /// Every item still waiting, in order.
    pub fn finish(self, out: &mut impl FnMut(T)) {
        for item in self.waiting.into_values() {
            out(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(window: usize, ids: &[u64]) -> Vec<u64> {
        let mut order = InOrder::new(window);
        let mut out = Vec::new();
        for id in ids {
            order.push(*id, *id, &mut |i| out.push(i));
        }
        order.finish(&mut |i| out.push(i));
        out
    }

    #[test]
    fn connections_that_end_out_of_order_come_out_in_order() {
        assert_eq!(run(8, &[2, 0, 1, 4, 3]), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_number_that_never_comes_is_passed_once_the_window_is_full() {
        // 1 carried nothing; with a window of 2, 2 and 3 wait, then 4 pushes them out.
        assert_eq!(run(2, &[0, 2, 3, 4]), [0, 2, 3, 4]);
        let mut order = InOrder::new(2);
        let mut out = Vec::new();
        for id in [0, 2, 3, 4] {
            order.push(id, id, &mut |i| out.push(i));
        }
        assert_eq!(out, [0, 2, 3, 4], "nothing waits beyond the window");
    }

    #[test]
    fn a_connection_later_than_the_window_comes_out_when_it_ends() {
        assert_eq!(run(2, &[1, 2, 3, 4, 0]), [1, 2, 3, 4, 0]);
    }
}
