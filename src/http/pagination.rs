//! `page` / `per_page` query parameters and the page envelope of every list.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Largest page a client may ask for.
pub const MAX_PER_PAGE: i64 = 100;

#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number (default 1).
    pub page: Option<i64>,
    /// Items per page, 1–100 (default 20).
    pub per_page: Option<i64>,
}

impl PageQuery {
    pub fn page(&self) -> i64 {
        self.page.unwrap_or(1).max(1)
    }
    pub fn per_page(&self) -> i64 {
        self.per_page.unwrap_or(20).clamp(1, MAX_PER_PAGE)
    }
    pub fn offset(&self) -> i64 {
        (self.page() - 1).saturating_mul(self.per_page())
    }
}

/// One page of a list, with the total number of matching items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, query: &PageQuery, total: i64) -> Self {
        Self {
            items,
            page: query.page(),
            per_page: query.per_page(),
            total,
        }
    }
}
