//! Which query parameters an origin is sent, and in which form: exactly the string signed.

use crate::sigv4::{encode_query_component, form_decode, is_canonical_query_component};
use std::borrow::Cow;

/// Which query parameters an origin is sent.
#[derive(Clone, Copy, Debug)]
pub(super) enum QueryRule<'a> {
    /// Those whose (form-decoded) name is in the list, exactly.
    AllowList(&'a [String]),
    /// All of them.
    All,
}

impl QueryRule<'_> {
    /// Whether the parameter whose form-decoded name is `name` is kept. A viewer's `X-Amz-*`
    /// parameter never is, whatever the list says: it would sign presigning or checksum parameters
    /// of the viewer's choosing under the edge role's signature.
    fn keeps(self, name: &[u8]) -> bool {
        const X_AMZ: &[u8] = b"x-amz-";
        if name.len() >= X_AMZ.len() && name[..X_AMZ.len()].eq_ignore_ascii_case(X_AMZ) {
            return false;
        }
        match self {
            QueryRule::AllowList(allow) => allow.iter().any(|a| a.as_bytes() == name),
            QueryRule::All => true,
        }
    }
}

/// Keeps the parameters `rule` keeps, each in canonical encoding (a raw `+` reads as a space), so
/// that each pair sent is the pair signed. An allow-list's parameters are also sorted as SigV4
/// sorts them; the whole query keeps the viewer's order, which a service reads (repeated names
/// are a list: `?id=2&id=1`), while the signer sorts its canonical copy itself. A query that is
/// already so (such as `showExif=true`) is borrowed, not rebuilt.
pub(super) fn kept_query<'q>(raw: &'q str, rule: QueryRule<'_>) -> Cow<'q, str> {
    if is_kept_as_is(raw, rule) {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(rebuild_query(raw, rule))
    }
}

/// Whether [`rebuild_query`] would return `raw` itself: every part is `name=value`, in canonical
/// form (so nothing is decoded or encoded, and the name is compared as it is), kept, and (for an
/// allow-list) in sorted order. Split by bytes: `str::split` searches each `&` and `=` with `memchr`, which costs
/// more than these few bytes.
pub(super) fn is_kept_as_is(raw: &str, rule: QueryRule<'_>) -> bool {
    let mut previous: Option<(&[u8], &[u8])> = None;
    raw.is_empty()
        || raw.as_bytes().split(|&b| b == b'&').all(|part| {
            let Some(at) = part.iter().position(|&b| b == b'=') else {
                return false;
            };
            let pair @ (name, value) = (&part[..at], &part[at + 1..]);
            let in_order = matches!(rule, QueryRule::All) || previous.is_none_or(|previous| previous <= pair);
            previous = Some(pair);
            in_order
                && is_canonical_query_component(name)
                && is_canonical_query_component(value)
                && rule.keeps(name)
        })
}

/// The kept parameters of `raw`, encoded (and sorted for an allow-list): see [`kept_query`]. Out of line: most
/// queries are kept as they are.
#[cold]
#[inline(never)]
pub(super) fn rebuild_query(raw: &str, rule: QueryRule<'_>) -> String {
    let mut kept: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::new();
    for part in raw.split('&').filter(|part| !part.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        if rule.keeps(&form_decode(name)) {
            kept.push((encode_query_component(name), encode_query_component(value)));
        }
    }
    if kept.len() > 1 && matches!(rule, QueryRule::AllowList(_)) {
        kept.sort_unstable();
    }
    let mut query = String::with_capacity(kept.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (name, value)) in kept.iter().enumerate() {
        if i > 0 {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        query.push_str(value);
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn allow() -> Vec<String> {
        ["showExif", "a b", "x+y", "%41", "é"].map(String::from).to_vec()
    }

    #[test]
    fn a_query_is_borrowed_exactly_when_rebuilding_it_changes_nothing() {
        let allow = allow();
        for (raw, borrowed) in [
            ("", true),
            ("showExif=true", true),
            ("showExif=", true),
            ("showExif=true&showExif=true", true),
            ("showExif=a&showExif=b", true),
            ("showExif=b&showExif=a", false), // sorted when rebuilt
            ("showExif", false),              // rebuilt as `showExif=`
            ("showExif=true&", false),        // the empty part goes
            ("&showExif=true", false),
            ("showExif=a b", false),          // encoded when rebuilt
            ("showExif=%7e", false),          // normalised when rebuilt
            ("a+b=1", false),                 // allowed as `a b`, but encoded
            ("other=1&showExif=true", false), // `other` goes
            ("%41=1", false),                 // decoded name `A` is not allowed
        ] {
            let rule = QueryRule::AllowList(&allow);
            let query = kept_query(raw, rule);
            assert_eq!(query, rebuild_query(raw, rule), "{raw:?}");
            assert_eq!(matches!(query, Cow::Borrowed(_)), borrowed, "{raw:?}");
        }
    }

    #[test]
    fn the_whole_query_is_kept_canonical_in_the_viewers_order_without_x_amz_parameters() {
        for (raw, kept) in [
            ("b=2&a=1", "b=2&a=1"),
            ("id=2&id=1", "id=2&id=1"),
            ("q=a+b&q=a%2bb&flag", "q=a%20b&q=a%2Bb&flag="),
            (
                "X-Amz-Credential=x&x-amz-date=1&X%2DAmz-Signature=s&x-amzn=1",
                "x-amzn=1",
            ),
            ("x+amz-a=1&%78-amz-b=2", "x%20amz-a=1"),
            ("a=%zz&%c3%a9=%7e", "a=%25zz&%C3%A9=~"),
        ] {
            assert_eq!(kept_query(raw, QueryRule::All), kept, "{raw:?}");
        }
        let allow = ["X-Amz-Date".to_owned(), "w".to_owned()];
        assert_eq!(
            kept_query("X-Amz-Date=1&w=2", QueryRule::AllowList(&allow)),
            "w=2"
        );
    }

    proptest! {
        #[test]
        fn a_borrowed_query_is_the_rebuilt_one(raw in "(showExif|a[ +]b|x[+ ]y|%4[1a]|%C3%A9|é|other|[=&%+~]|true|A|z){0,8}") {
            let allow = allow();
            for rule in [QueryRule::AllowList(&allow), QueryRule::All] {
                prop_assert_eq!(kept_query(&raw, rule), rebuild_query(&raw, rule));
            }
        }
    }
}
