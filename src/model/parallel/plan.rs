//! Placements, the device mesh and tensor-parallel plans: plain data, and the arithmetic of
//! which box of a tensor each rank holds.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use serde_json::Value;

use crate::contract::slice::Slice;
use crate::error::{Error, Result};

/// How a tensor lies over one mesh dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Every rank holds all of it.
    Replicate,
    /// Rank `i` holds chunk `i` of this dimension.
    Shard(usize),
}

impl Placement {
    /// Parses `Replicate` or `Shard(D)` (any case).
    pub fn parse(text: &str) -> Result<Placement> {
        let lower = text.trim().to_ascii_lowercase();
        let invalid = || Error::invalid("placement", text, "Replicate or Shard(D), D ≥ 0");
        if lower == "replicate" {
            return Ok(Placement::Replicate);
        }
        let dim = lower
            .strip_prefix("shard(")
            .and_then(|rest| rest.strip_suffix(')'))
            .ok_or_else(invalid)?;
        dim.trim()
            .parse()
            .map(Placement::Shard)
            .map_err(|_| invalid())
    }
}

impl fmt::Display for Placement {
    /// As PyTorch writes it: `Replicate()` is written `Replicate`, `Shard(dim=1)` `Shard(1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placement::Replicate => write!(f, "Replicate"),
            Placement::Shard(dim) => write!(f, "Shard({dim})"),
        }
    }
}

/// How a routed expert's tensor lies over the expert-parallel ranks (`--ep`): whole experts,
/// `n / ep` of them per ep rank, the ep rank being `dp_rank mod ep`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpertPlacement {
    /// The tensor of expert `index` of `count` (a per-expert key): held, whole but for its tp
    /// split, by ep rank `index / (count / ep)` and by no other.
    Own {
        /// Which expert.
        index: u64,
        /// How many routed experts its layer has.
        count: u64,
    },
    /// Every expert along dimension 0 (fused `[E, …]` tensors): ep rank `r` holds experts
    /// `r·E/ep .. (r+1)·E/ep`.
    Fused,
}

impl ExpertPlacement {
    /// Parses what [`fmt::Display`] writes: `Expert(I of N)` or `Experts(0)`.
    pub fn parse(text: &str) -> Result<ExpertPlacement> {
        let invalid = || Error::invalid("ep placement", text, "Expert(I of N) or Experts(0)");
        if text == "Experts(0)" {
            return Ok(ExpertPlacement::Fused);
        }
        let inner = text
            .strip_prefix("Expert(")
            .and_then(|rest| rest.strip_suffix(')'))
            .ok_or_else(invalid)?;
        let (index, count) = inner.split_once(" of ").ok_or_else(invalid)?;
        Ok(ExpertPlacement::Own {
            index: index.parse().map_err(|_| invalid())?,
            count: count.parse().map_err(|_| invalid())?,
        })
    }
}

impl fmt::Display for ExpertPlacement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpertPlacement::Own { index, count } => write!(f, "Expert({index} of {count})"),
            ExpertPlacement::Fused => write!(f, "Experts(0)"),
        }
    }
}

/// Chunk `index` of `count` of an extent of `extent`, as `torch.chunk` and DTensor split it:
/// ⌈extent/count⌉ each, the last ones shorter or empty.
pub fn chunk(extent: u64, index: u64, count: u64) -> Range<u64> {
    let size = extent.div_ceil(count.max(1));
    let start = index.saturating_mul(size).min(extent);
    start..index.saturating_add(1).saturating_mul(size).min(extent)
}

/// A 2-D device mesh: `tp` tensor-parallel ranks (fastest-varying) × `dp` data-parallel ones,
/// the dp ranks grouped `ep` ways for the routed experts (expert parallelism within data
/// parallelism, innermost, as Megatron-core and torchtitan order it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mesh {
    /// Tensor-parallel size.
    pub tp: u64,
    /// Data-parallel size.
    pub dp: u64,
    /// Expert-parallel size: 1, or a divisor of `dp` (then experts are held whole, `n / ep`
    /// per ep rank, and not split by dp).
    pub ep: u64,
}

impl Mesh {
    /// A mesh of `tp × dp` ranks, both at least 1, at most 2^20 ranks in all.
    pub fn new(tp: u64, dp: u64) -> Result<Mesh> {
        for (name, size) in [("tp", tp), ("dp", dp)] {
            if size == 0 {
                return Err(Error::invalid(name, size, "must be ≥ 1"));
            }
        }
        if tp.checked_mul(dp).is_none_or(|w| w > MAX_WORLD) {
            return Err(Error::invalid(
                "tp × dp",
                format!("{tp} × {dp}"),
                format!("at most {MAX_WORLD} ranks"),
            ));
        }
        Ok(Mesh { tp, dp, ep: 1 })
    }

    /// This mesh with its dp ranks grouped `ep` ways for the experts; `ep` must divide `dp`.
    pub fn with_ep(self, ep: u64) -> Result<Mesh> {
        if ep == 0 || !self.dp.is_multiple_of(ep) {
            return Err(Error::invalid(
                "ep",
                ep,
                format!(
                    "a divisor of dp = {} (expert parallelism within data parallelism)",
                    self.dp
                ),
            ));
        }
        Ok(Mesh { ep, ..self })
    }

    /// The mesh as the rank files' `nninit.mesh` metadata states it: `tp=T,dp=D`, and `,ep=E`
    /// with expert parallelism.
    pub fn metadata(&self) -> String {
        match self.ep {
            1 => format!("tp={},dp={}", self.tp, self.dp),
            ep => format!("tp={},dp={},ep={ep}", self.tp, self.dp),
        }
    }

    /// The expert-parallel rank of `rank`: `dp_rank mod ep`.
    pub fn ep_rank(&self, rank: u64) -> u64 {
        self.coords(rank).1 % self.ep
    }

    /// Checks an expert tensor's placements, as a manifest states them: expert parallelism on
    /// (`ep > 1`), `tp` as [`Mesh::check_placements`] checks it, `dp` Replicate, and whole
    /// experts per ep rank (`ep` divides the experts).
    pub fn check_expert_placements(
        &self,
        name: &str,
        shape: &[u64],
        tp: Placement,
        dp: Placement,
        ep: ExpertPlacement,
    ) -> Result<()> {
        let refuse = |allowed: String| {
            Err(Error::invalid(
                format!("ep placement of {name}"),
                ep,
                allowed,
            ))
        };
        if self.ep == 1 {
            return refuse("none: the mesh has no expert parallelism (ep = 1)".into());
        }
        match ep {
            ExpertPlacement::Own { index, count } => {
                if index >= count || !count.is_multiple_of(self.ep) {
                    return refuse(format!(
                        "Expert(I of N) with I < N and ep = {} dividing N",
                        self.ep
                    ));
                }
            }
            ExpertPlacement::Fused => {
                if shape
                    .first()
                    .is_none_or(|&n| !n.is_multiple_of(self.ep) || tp == Placement::Shard(0))
                {
                    return refuse(format!(
                        "Experts(0) of a tensor whose dim 0 (experts) ep = {} divides and tp does not split",
                        self.ep
                    ));
                }
            }
        }
        if dp != Placement::Replicate {
            return Err(Error::invalid(
                format!("dp placement of {name}"),
                dp,
                "Replicate: an expert parallel rank holds its experts whole",
            ));
        }
        self.check_placements(name, shape, tp, self.dp_placement(shape.len()))
    }

    /// The box of an expert tensor placed `tp` and `ep` that `rank` holds: its tp chunk, then
    /// its experts (all of its own expert's tensor, or nothing; its share of dim 0 of a fused
    /// one), never split by dp.
    pub fn expert_slice(
        &self,
        shape: &[u64],
        tp: Placement,
        ep: ExpertPlacement,
        rank: u64,
    ) -> Slice {
        let (tp_rank, _) = self.coords(rank);
        let ep_rank = self.ep_rank(rank);
        let mut slice = Slice::whole(shape);
        if let Placement::Shard(dim) = tp {
            slice.ranges[dim] = chunk(shape[dim], tp_rank, self.tp);
        }
        if let Some(first) = slice.ranges.first_mut() {
            match ep {
                ExpertPlacement::Own { index, count } => {
                    if index / (count / self.ep) != ep_rank {
                        *first = first.start..first.start;
                    }
                }
                ExpertPlacement::Fused => *first = chunk(shape[0], ep_rank, self.ep),
            }
        }
        slice
    }

    /// How many ranks.
    pub fn world_size(&self) -> u64 {
        self.tp * self.dp
    }

    /// `(tp_rank, dp_rank)` of `rank`: tp fastest, `rank = dp_rank · tp + tp_rank`.
    pub fn coords(&self, rank: u64) -> (u64, u64) {
        (rank % self.tp, rank / self.tp)
    }

    /// Checks the placements of tensor `name` of `shape` on this mesh, as a manifest states them:
    /// `tp` replicated or sharding a dimension the tensor has, and `dp` the one
    /// [`Mesh::dp_placement`] gives it (the one [`Mesh::slice`] computes boxes by). Whatever
    /// reads placements from a file checks them with this before computing a box: `slice`
    /// indexes the dimension a `Shard` names.
    pub fn check_placements(
        &self,
        name: &str,
        shape: &[u64],
        tp: Placement,
        dp: Placement,
    ) -> Result<()> {
        if let Placement::Shard(dim) = tp
            && dim >= shape.len()
        {
            return Err(Error::invalid(
                format!("tp placement of {name}"),
                tp,
                format!(
                    "Replicate, or Shard(d) with d < {} (a dimension of its shape {shape:?})",
                    shape.len()
                ),
            ));
        }
        let expected = self.dp_placement(shape.len());
        if dp != expected {
            return Err(Error::invalid(
                format!("dp placement of {name}"),
                dp,
                format!(
                    "{expected}, as dp = {} places a tensor of shape {shape:?} (FSDP's \
                     Shard(0); Replicate for a 0-dim tensor or one dp rank)",
                    self.dp
                ),
            ));
        }
        Ok(())
    }

    /// The box of a tensor of `shape` placed `tp` over the tensor-parallel ranks that `rank`
    /// holds: its tp chunk, then that chunk's dim-0 dp chunk. A `Shard` must name a dimension
    /// of `shape` ([`Mesh::check_placements`]).
    pub fn slice(&self, shape: &[u64], tp: Placement, rank: u64) -> Slice {
        let (tp_rank, dp_rank) = self.coords(rank);
        let mut slice = Slice::whole(shape);
        if let Placement::Shard(dim) = tp {
            slice.ranges[dim] = chunk(shape[dim], tp_rank, self.tp);
        }
        if let Some(first) = slice.ranges.first_mut() {
            let within = chunk(first.end - first.start, dp_rank, self.dp);
            *first = first.start + within.start..first.start + within.end;
        }
        slice
    }

    /// The dp placement of a tensor of `rank` dimensions: `Shard(0)`, or `Replicate` for a
    /// 0-dim tensor (or when there is one dp rank).
    pub fn dp_placement(&self, dims: usize) -> Placement {
        if dims == 0 || self.dp == 1 {
            Placement::Replicate
        } else {
            Placement::Shard(0)
        }
    }
}

/// Most ranks a mesh may have.
pub const MAX_WORLD: u64 = 1 << 20;

/// One rule of a plan: tensors whose names match `pattern` are placed `placement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRule {
    /// A tensor name with `*` standing for any run of characters other than `.` (so
    /// `model.layers.*.mlp.up_proj.*` matches every layer's weight and bias).
    pub pattern: String,
    /// Where the matching tensors go.
    pub placement: Placement,
    /// When the sharded dimension is made of equal groups that must not be split (attention
    /// heads): what they are called and how many there are. tp must divide the count.
    pub groups: Option<(String, u64)>,
}

impl PlanRule {
    /// A rule without groups.
    pub fn new(pattern: impl Into<String>, placement: Placement) -> PlanRule {
        PlanRule {
            pattern: pattern.into(),
            placement,
            groups: None,
        }
    }

    /// A rule whose sharded dimension is `count` groups named `what` (e.g. attention heads).
    pub fn grouped(
        pattern: impl Into<String>,
        placement: Placement,
        what: impl Into<String>,
        count: u64,
    ) -> PlanRule {
        PlanRule {
            groups: Some((what.into(), count)),
            ..PlanRule::new(pattern, placement)
        }
    }
}

/// A tensor-parallel plan: ordered rules, the first matching one placing a tensor; a tensor
/// that no rule matches is replicated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TpPlan {
    /// The rules, in order.
    pub rules: Vec<PlanRule>,
    /// Whether every rule must match some tensor (plans from a file; a built-in plan names
    /// tensors some configurations do not have).
    pub strict: bool,
}

impl TpPlan {
    /// A plan file: a JSON list of `{"pattern": "…", "placement": "Shard(D)" | "Replicate"}`,
    /// each with an optional `"groups": N` (the sharded dimension is N equal groups, such as
    /// attention heads, that tp must divide).
    pub fn from_json(text: &str) -> Result<TpPlan> {
        let value: Value = serde_json::from_str(text).map_err(|e| Error::Parse {
            what: "plan",
            input: text.chars().take(60).collect(),
            reason: e.to_string(),
        })?;
        let entries = value.as_array().ok_or_else(|| {
            Error::invalid(
                "plan",
                "not a list",
                "a JSON list of {\"pattern\", \"placement\"} objects",
            )
        })?;
        let mut rules = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let what = format!("plan entry {index}");
            let fields = entry
                .as_object()
                .ok_or_else(|| Error::invalid(&what, entry, "an object"))?;
            if let Some(key) = fields
                .keys()
                .find(|k| !["pattern", "placement", "groups"].contains(&k.as_str()))
            {
                return Err(Error::invalid(
                    &what,
                    key,
                    "unknown key; an entry takes pattern, placement, groups",
                ));
            }
            let text_of = |key: &str| {
                fields
                    .get(key)
                    .and_then(Value::as_str)
                    .ok_or_else(|| Error::invalid(format!("{what} ({key})"), "missing", "a string"))
            };
            let pattern = text_of("pattern")?;
            if pattern.is_empty() {
                return Err(Error::invalid(
                    format!("{what} (pattern)"),
                    "\"\"",
                    "a tensor name",
                ));
            }
            let placement = Placement::parse(text_of("placement")?).map_err(|_| {
                Error::invalid(
                    format!("{what} (placement)"),
                    &fields["placement"],
                    "Replicate or Shard(D), D ≥ 0",
                )
            })?;
            let groups = match fields.get("groups") {
                None => None,
                Some(count) => match count.as_u64().filter(|&n| n > 0) {
                    Some(n) => Some(("groups".to_string(), n)),
                    None => {
                        return Err(Error::invalid(
                            format!("{what} (groups)"),
                            count,
                            "a positive integer",
                        ));
                    }
                },
            };
            rules.push(PlanRule {
                pattern: pattern.to_string(),
                placement,
                groups,
            });
        }
        Ok(TpPlan {
            rules,
            strict: true,
        })
    }

    /// The tp placement of each tensor (`names` and `shapes` in order) on `tp` ranks, checked:
    /// a sharded dimension must exist, grouped dimensions must split into whole groups, and in
    /// a strict plan every rule must match some tensor.
    pub fn placements(&self, tensors: &[(&str, &[u64])], tp: u64) -> Result<Vec<Placement>> {
        let mut used = vec![false; self.rules.len()];
        let mut out = Vec::with_capacity(tensors.len());
        // Rules without a star name one tensor each (a built-in plan has one per split tensor,
        // 45,395 for DeepSeek-V3): looked up by name, the starred ones scanned in order.
        let mut exact: HashMap<&str, usize> = HashMap::new();
        let mut starred = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.pattern.contains('*') {
                starred.push(index);
            } else {
                exact.entry(rule.pattern.as_str()).or_insert(index);
            }
        }
        for &(name, shape) in tensors {
            let first_starred = starred
                .iter()
                .copied()
                .find(|&index| matches_pattern(&self.rules[index].pattern, name));
            let Some(index) = [exact.get(name).copied(), first_starred]
                .into_iter()
                .flatten()
                .min()
            else {
                out.push(Placement::Replicate);
                continue;
            };
            used[index] = true;
            let rule = &self.rules[index];
            if let Placement::Shard(dim) = rule.placement {
                if dim >= shape.len() {
                    return Err(Error::invalid(
                        format!("placement of {name} ({})", rule.pattern),
                        rule.placement,
                        format!("a dimension of its shape {shape:?}"),
                    ));
                }
                if let Some((what, count)) = &rule.groups
                    && !shape[dim].is_multiple_of(*count)
                {
                    return Err(Error::invalid(
                        format!("{what} of {}", rule.pattern),
                        count,
                        format!("a count that divides dimension {dim} of {name} {shape:?}"),
                    ));
                }
                if let Some((what, count)) = &rule.groups
                    && !count.is_multiple_of(tp)
                {
                    return Err(Error::invalid(
                        "tp",
                        tp,
                        format!(
                            "must divide {what} ({count}), by which {} splits dimension {dim} \
                             of {name}",
                            rule.pattern
                        ),
                    ));
                }
            }
            out.push(rule.placement);
        }
        if self.strict
            && let Some(unused) = used.iter().position(|u| !u)
        {
            return Err(Error::invalid(
                "plan pattern",
                &self.rules[unused].pattern,
                "a pattern that matches a tensor of the model",
            ));
        }
        Ok(out)
    }
}

/// Whether `name` matches `pattern` whole, `*` standing for any run of characters other than
/// `.`.
///
/// A star never takes a dot, so the pattern's dots meet the name's dots in order: the two have as
/// many `.`-separated components, and each pattern component matches its name component. Each
/// is matched by the greedy wildcard scan with one backtrack point (the last star), in
/// O(pattern × name) steps, however many stars a plan file gives.
pub fn matches_pattern(pattern: &str, name: &str) -> bool {
    let mut patterns = pattern.split('.');
    let mut names = name.split('.');
    loop {
        match (patterns.next(), names.next()) {
            (None, None) => return true,
            (Some(pattern), Some(name))
                if matches_component(pattern.as_bytes(), name.as_bytes()) => {}
            _ => return false,
        }
    }
}

/// Whether `name` (no dots) matches `pattern`, `*` standing for any run of bytes. Literal bytes
/// of the pattern are whole UTF-8 characters, so a match never splits one.
fn matches_component(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    // The last star seen: where the pattern resumes after it, and where its match in the name ends.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                p += 1;
                star = Some((p, n));
            }
            Some(&c) if c == name[n] => {
                p += 1;
                n += 1;
            }
            // A mismatch: the last star takes one byte more, and the rest is tried from there.
            _ => match star {
                Some((resume, taken)) => {
                    p = resume;
                    n = taken + 1;
                    star = Some((resume, taken + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_split_like_torch_chunk() {
        // torch.arange(10).chunk(4): sizes 3, 3, 3, 1; torch.arange(5).chunk(4): 2, 2, 1, 0.
        let sizes = |n, k| (0..k).map(|i| chunk(n, i, k)).collect::<Vec<_>>();
        assert_eq!(sizes(10, 4), vec![0..3, 3..6, 6..9, 9..10]);
        assert_eq!(sizes(5, 4), vec![0..2, 2..4, 4..5, 5..5]);
        assert_eq!(sizes(2, 4), vec![0..1, 1..2, 2..2, 2..2]);
        assert_eq!(sizes(0, 3), vec![0..0, 0..0, 0..0]);
    }

    #[test]
    fn a_rank_holds_its_tp_chunk_then_its_dp_chunk_of_dim_0() {
        let mesh = Mesh::new(2, 3).unwrap();
        assert_eq!(mesh.coords(5), (1, 2));
        // Column-parallel: tp rank 1 holds rows 5..10 of 10; dp rank 2 of 3 the last row of those.
        let slice = mesh.slice(&[10, 4], Placement::Shard(0), 5);
        assert_eq!(slice.ranges, vec![9..10, 0..4]);
        // Row-parallel: columns by tp, rows by dp.
        let slice = mesh.slice(&[10, 4], Placement::Shard(1), 3);
        assert_eq!(slice.ranges, vec![4..8, 2..4]);
        assert_eq!(mesh.slice(&[], Placement::Replicate, 4).ranges, vec![]);
    }

    #[test]
    fn placements_read_from_a_file_are_checked_against_the_shape_and_mesh() {
        let mesh = Mesh::new(4, 2).unwrap();
        let (replicate, shard) = (Placement::Replicate, Placement::Shard);
        assert!(
            mesh.check_placements("w", &[6, 4], shard(1), shard(0))
                .is_ok()
        );
        assert!(
            mesh.check_placements("s", &[], replicate, replicate)
                .is_ok()
        );
        // rank_manifest finding C (docs/fuzzing.md): Shard(1) of a 0-dim tensor.
        let error = mesh
            .check_placements("s", &[], shard(1), replicate)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("tp placement of s") && error.contains("Shard(1)"),
            "{error}"
        );
        let error = mesh
            .check_placements("w", &[6, 4], shard(2), shard(0))
            .unwrap_err()
            .to_string();
        assert!(error.contains("d < 2"), "{error}");
        // dp places every tensor of a dimension or more Shard(0) (one dp rank: Replicate).
        for dp in [replicate, shard(1)] {
            let error = mesh
                .check_placements("w", &[6, 4], replicate, dp)
                .unwrap_err()
                .to_string();
            assert!(error.contains("dp placement of w"), "{error}");
        }
        let single = Mesh::new(4, 1).unwrap();
        assert!(
            single
                .check_placements("w", &[6], replicate, replicate)
                .is_ok()
        );
        assert!(
            single
                .check_placements("w", &[6], replicate, shard(0))
                .is_err()
        );
    }

    #[test]
    fn patterns_match_whole_names_with_stars_inside_components() {
        assert!(matches_pattern("a.*.b", "a.12.b"));
        assert!(!matches_pattern("a.*.b", "a.1.2.b"));
        assert!(matches_pattern("m.wi*.weight", "m.wi_0.weight"));
        assert!(matches_pattern("m.wi*.weight", "m.wi.weight"));
        assert!(!matches_pattern("a.b", "a.b.c"));
        assert!(matches_pattern("*.*", "x.y"));
    }

    /// The recursive matcher `matches_pattern` was before placement findings F and G
    /// (docs/fuzzing.md) — each star tried every split, exponential in the stars, and split a
    /// name inside a multi-byte character (a panic) — here only at character boundaries.
    fn matches_recursively(pattern: &str, name: &str) -> bool {
        match pattern.split_once('*') {
            None => pattern == name,
            Some((head, rest)) => {
                let Some(tail) = name.strip_prefix(head) else {
                    return false;
                };
                let limit = tail.find('.').unwrap_or(tail.len());
                (0..=limit)
                    .filter(|&taken| tail.is_char_boundary(taken))
                    .any(|taken| matches_recursively(rest, &tail[taken..]))
            }
        }
    }

    #[test]
    fn patterns_match_as_the_recursive_definition_does() {
        // Every pattern and name of up to 5 characters over a, b, é, . (and * in patterns).
        fn strings(alphabet: &[char], max: usize) -> Vec<String> {
            let mut all = vec![String::new()];
            let mut last = vec![String::new()];
            for _ in 0..max {
                last = last
                    .iter()
                    .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                    .collect();
                all.extend(last.iter().cloned());
            }
            all
        }
        let names = strings(&['a', 'b', 'é', '.'], 5);
        let patterns = strings(&['a', 'é', '.', '*'], 5);
        for pattern in &patterns {
            for name in &names {
                assert_eq!(
                    matches_pattern(pattern, name),
                    matches_recursively(pattern, name),
                    "{pattern:?} on {name:?}"
                );
            }
        }
    }

    #[test]
    fn many_stars_match_in_linear_time() {
        // Placement finding F: `fc1.` and 40 stars and `x` took 15 s against `fc1.weight`
        // (the recursion tried every way to share 6 characters among 40 stars).
        let start = std::time::Instant::now();
        let stars = "*".repeat(2000);
        assert!(!matches_pattern(&format!("fc1.{stars}x"), "fc1.weight"));
        assert!(matches_pattern(
            &format!("fc1.{stars}t{stars}"),
            "fc1.weight"
        ));
        let long = "a".repeat(2000);
        assert!(!matches_pattern(&format!("{stars}b"), &long));
        assert!(matches_pattern(&format!("*a{stars}"), &long));
        assert!(
            start.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn placements_parse_and_print_as_pytorch_names_them() {
        assert_eq!(Placement::parse("shard(1)").unwrap(), Placement::Shard(1));
        assert_eq!(Placement::parse("Replicate").unwrap(), Placement::Replicate);
        assert!(Placement::parse("Shard(-1)").is_err());
        assert_eq!(Placement::Shard(2).to_string(), "Shard(2)");
    }
}
