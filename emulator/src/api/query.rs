//! Query string parsing for the list endpoints: decoded parameters, integer
//! values and `offset`/`limit` ranges, with `CPS.0001` on bad input.

use std::collections::HashMap;

use percent_encoding::percent_decode_str;

use crate::errors::{ApiError, code};

pub struct Query(HashMap<String, String>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let decode = |s: &str| {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        Query(
            raw.unwrap_or_default()
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(p), String::new()),
                })
                .collect(),
        )
    }

    /// A non-empty string parameter.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.str(name) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                ApiError::bad_request(
                    code::BAD_REQUEST,
                    format!("Invalid {name}: '{v}' is not an integer"),
                )
            }),
        }
    }

    pub fn offset(&self) -> Result<usize, ApiError> {
        match self.int("offset")? {
            None => Ok(0),
            Some(v) if v >= 0 => Ok(usize::try_from(v).unwrap_or(usize::MAX)),
            Some(v) => Err(ApiError::bad_request(
                code::BAD_REQUEST,
                format!("Invalid offset: {v} is negative"),
            )),
        }
    }

    pub fn limit(&self, max: i64, default: usize) -> Result<usize, ApiError> {
        match self.int("limit")? {
            None => Ok(default),
            Some(v) if (1..=max).contains(&v) => Ok(usize::try_from(v).unwrap_or(default)),
            Some(v) => Err(ApiError::bad_request(
                code::BAD_REQUEST,
                format!("Invalid limit: {v} is not between 1 and {max}"),
            )),
        }
    }
}

/// One page of `items` and the total count.
pub fn page<T>(items: impl Iterator<Item = T>, offset: usize, limit: usize) -> (Vec<T>, usize) {
    let mut count = 0;
    let mut out = Vec::new();
    for item in items {
        if count >= offset && out.len() < limit {
            out.push(item);
        }
        count += 1;
    }
    (out, count)
}
