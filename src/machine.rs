//! What the status machines share (applications, exit cases, contracts, pool entries, notices,
//! objections): the check that a machine's `apply` is exactly its designed transition table.

/// Asserts `apply` over every status × every event: each `legal` triple `(from, event, to)`
/// gives `Ok(to)`, every other pair gives `Err(refused(from, event))`. Callers pass their
/// `ALL` lists, so a new status or event without a decided row fails the test.
#[cfg(test)]
pub fn assert_transition_matrix<S, E, X>(
    statuses: &[S],
    events: &[E],
    legal: &[(S, E, S)],
    apply: impl Fn(S, E) -> Result<S, X>,
    refused: impl Fn(S, E) -> X,
) where
    S: Copy + PartialEq + std::fmt::Debug,
    E: Copy + PartialEq + std::fmt::Debug,
    X: PartialEq + std::fmt::Debug,
{
    for &from in statuses {
        for &event in events {
            let expected = legal
                .iter()
                .find(|(f, e, _)| *f == from && *e == event)
                .map_or_else(|| Err(refused(from, event)), |(_, _, to)| Ok(*to));
            assert_eq!(apply(from, event), expected, "{from:?} + {event:?}");
        }
    }
}
