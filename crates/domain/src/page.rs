//! One page type for every list: what a caller asks for ([`PageRequest`]) and what it gets
//! ([`Page`]).
//!
//! **The one clamp policy** (applied by [`PageRequest::new`], nowhere else):
//! - pages are numbered from 1; page 0 is read as page 1;
//! - a page holds 1 to [`PageRequest::MAX_PER_PAGE`] (200) rows; 0 is read as
//!   [`PageRequest::DEFAULT_PER_PAGE`], more than 200 as 200;
//! - an optional cap on the whole result ([`PageRequest::capped`], Chorus Pro's
//!   `nbResultatsMaximum`): only the first `cap` rows of the *filtered, ordered* result can be
//!   paged through, and `total` counts at most `cap`. The cap is clamped to 1..=200 as well.
//!
//! A page beyond the last one is empty (with the right total). Each edge chooses its default size
//! (the API's is 10, as on Chorus Pro) and refuses what it must refuse (the API answers a field
//! error for sizes below 1) before building a request.

use serde::Serialize;

/// Which rows of an ordered result to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PageRequest {
    page: u32,
    per_page: u32,
    cap: Option<u32>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::new(1, Self::DEFAULT_PER_PAGE)
    }
}

impl PageRequest {
    /// Largest page, and largest cap (Chorus Pro's limit on any search).
    pub const MAX_PER_PAGE: u32 = 200;
    /// Size of a page when none is asked for.
    pub const DEFAULT_PER_PAGE: u32 = 20;

    /// Page `page` (1-based) of `per_page` rows, clamped as the module says.
    pub fn new(page: u32, per_page: u32) -> Self {
        Self {
            page: page.max(1),
            per_page: match per_page {
                0 => Self::DEFAULT_PER_PAGE,
                n => n.min(Self::MAX_PER_PAGE),
            },
            cap: None,
        }
    }

    /// The same page within the first `cap` rows of the result only (clamped to 1..=200).
    #[must_use]
    pub fn capped(mut self, cap: u32) -> Self {
        self.cap = Some(cap.clamp(1, Self::MAX_PER_PAGE));
        self
    }

    /// The 1-based page number.
    pub fn page(&self) -> u32 {
        self.page
    }

    /// Rows per page.
    pub fn per_page(&self) -> u32 {
        self.per_page
    }

    /// The cap on the whole result, if any.
    pub fn cap(&self) -> Option<u32> {
        self.cap
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }

    /// Rows to fetch from [`offset`](Self::offset): a page, cut at the cap (0 beyond it).
    pub fn limit(&self) -> u64 {
        let per = u64::from(self.per_page);
        match self.cap {
            Some(cap) => per.min(u64::from(cap).saturating_sub(self.offset())),
            None => per,
        }
    }

    /// The total to report for `matches` rows: at most the cap.
    pub fn total(&self, matches: u64) -> u64 {
        self.cap.map_or(matches, |cap| matches.min(u64::from(cap)))
    }

    /// Cuts this page out of a whole result held in memory (short lists: a structure's services).
    pub fn slice<T>(&self, mut all: Vec<T>) -> Page<T> {
        let total = self.total(u64::try_from(all.len()).unwrap_or(u64::MAX));
        let start = usize::try_from(self.offset()).unwrap_or(usize::MAX).min(all.len());
        let end = start
            .saturating_add(usize::try_from(self.limit()).unwrap_or(usize::MAX))
            .min(all.len());
        let items = all.drain(start..end).collect();
        Page::new(items, total, self)
    }
}

/// One page of an ordered result and the number of rows the whole result has (at most the cap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Page<T> {
    /// The page `request` asked for, holding `items`, out of `total` rows.
    pub fn new(items: Vec<T>, total: u64, request: &PageRequest) -> Self {
        Self {
            items,
            total,
            page: request.page,
            per_page: request.per_page,
        }
    }

    /// Number of pages for `total` rows.
    pub fn page_count(&self) -> u64 {
        self.total.div_ceil(u64::from(self.per_page.max(1)))
    }

    /// The same page with each row converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            per_page: self.per_page,
        }
    }

    /// [`Page::map`] with a conversion that may fail.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, E>>()?,
            total: self.total,
            page: self.page,
            per_page: self.per_page,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_clamp_policy() {
        let r = PageRequest::new(0, 0);
        assert_eq!(
            (r.page(), r.per_page(), r.cap()),
            (1, PageRequest::DEFAULT_PER_PAGE, None)
        );
        let r = PageRequest::new(3, 5000);
        assert_eq!((r.page(), r.per_page(), r.offset(), r.limit()), (3, 200, 400, 200));
        assert_eq!(PageRequest::new(1, 10).capped(0).cap(), Some(1));
        assert_eq!(PageRequest::new(1, 10).capped(900).cap(), Some(200));
    }

    #[test]
    fn the_cap_cuts_the_last_page_and_the_total() {
        let r = PageRequest::new(3, 10).capped(25);
        assert_eq!((r.offset(), r.limit()), (20, 5));
        assert_eq!(PageRequest::new(4, 10).capped(25).limit(), 0);
        assert_eq!(r.total(1000), 25);
        assert_eq!(r.total(7), 7);
        let page = r.slice((0..100).collect::<Vec<_>>());
        assert_eq!(
            (page.page_count(), page.total, page.items),
            (3, 25, vec![20, 21, 22, 23, 24])
        );
    }

    #[test]
    fn beyond_the_last_page_is_empty() {
        let page = PageRequest::new(u32::MAX, 200).slice(vec![1, 2, 3]);
        assert!(page.items.is_empty());
        assert_eq!(page.total, 3);
        let page = PageRequest::new(2, 2).slice(vec![1, 2, 3]);
        assert_eq!((page.page_count(), page.items), (2, vec![3]));
    }
}
