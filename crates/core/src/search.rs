//! Search over transcripts: transcripts cut into passages (what is embedded and indexed),
//! the filters and hits of a search, and reciprocal rank fusion for hybrid ranking. Pure.

/// A stretch of a recording's transcript, indexed as one unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Passage {
    pub recording_id: String,
    /// Position in the recording's passages.
    pub idx: u32,
    /// Seconds from the start of the recording.
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub speaker: Option<String>,
    pub language: String,
    pub tags: Vec<String>,
    /// The recording's creation time, ms since the epoch (for time-range filters).
    pub created_at: i64,
    /// The recording's tenant ("": the default one); a search sees one tenant's passages.
    pub tenant: String,
}

/// What a passage carries besides its text and times (the recording's metadata).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PassageMeta {
    pub recording_id: String,
    pub speaker: Option<String>,
    pub language: String,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub tenant: String,
}

/// Cuts segments into passages of at most `window` seconds that start and end on segment
/// boundaries; the next passage starts with the first segment that begins in the last
/// `overlap` seconds of the previous one (so a sentence near a cut is whole in one of them). A
/// segment longer than the window is a passage alone.
pub fn cut_passages(segments: &[(f64, f64, &str)], window: f64, overlap: f64, meta: &PassageMeta) -> Vec<Passage> {
    let segs: Vec<&(f64, f64, &str)> = segments.iter().filter(|s| !s.2.trim().is_empty()).collect();
    let mut out: Vec<Passage> = Vec::new();
    let mut first = 0;
    while first < segs.len() {
        let start = segs[first].0;
        let mut last = first;
        while last + 1 < segs.len() && segs[last + 1].1 - start <= window {
            last += 1;
        }
        let text = segs[first..=last].iter().map(|s| s.2.trim()).collect::<Vec<_>>().join(" ");
        out.push(Passage {
            recording_id: meta.recording_id.clone(),
            idx: out.len() as u32,
            start,
            end: segs[last].1,
            text,
            speaker: meta.speaker.clone(),
            language: meta.language.clone(),
            tags: meta.tags.clone(),
            created_at: meta.created_at,
            tenant: meta.tenant.clone(),
        });
        if last + 1 >= segs.len() {
            break;
        }
        let threshold = segs[last].1 - overlap;
        first = (first + 1..=last).find(|&i| segs[i].0 >= threshold).unwrap_or(last + 1);
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchMode {
    Semantic,
    Keyword,
    Hybrid,
}

impl SearchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Semantic => "semantic",
            Self::Keyword => "keyword",
            Self::Hybrid => "hybrid",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "semantic" => Some(Self::Semantic),
            "keyword" => Some(Self::Keyword),
            "hybrid" => Some(Self::Hybrid),
            _ => None,
        }
    }
}

/// Filters of a search; all given ones must match.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchFilter {
    pub language: Option<String>,
    pub speaker: Option<String>,
    pub tag: Option<String>,
    /// The recording's creation time range, ms since the epoch.
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Only this tenant's passages; `None`: every tenant's (an administrator's search). Every
    /// engine applies it inside its query, like the other filters.
    pub tenant: Option<String>,
}

impl SearchFilter {
    pub fn matches(&self, p: &Passage) -> bool {
        self.tenant.as_ref().is_none_or(|t| *t == p.tenant)
            && self.language.as_ref().is_none_or(|l| *l == p.language)
            && self.speaker.as_ref().is_none_or(|s| p.speaker.as_ref() == Some(s))
            && self.tag.as_ref().is_none_or(|t| p.tags.contains(t))
            && self.from.is_none_or(|f| p.created_at >= f)
            && self.to.is_none_or(|t| p.created_at <= t)
    }
}

/// A passage found, with its score and the character ranges of `text` that matched words of
/// the query (keyword and hybrid searches).
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub passage: Passage,
    pub score: f32,
    pub highlights: Vec<(usize, usize)>,
}

/// Reciprocal rank fusion (k = 60): each list adds 1 / (k + rank) to a passage's score; the
/// fused list is best first. Highlights are kept from whichever list has them.
pub fn fuse(lists: Vec<Vec<Hit>>) -> Vec<Hit> {
    const K: f32 = 60.0;
    let mut fused: Vec<Hit> = Vec::new();
    for list in lists {
        for (rank, hit) in list.into_iter().enumerate() {
            let add = 1.0 / (K + rank as f32 + 1.0);
            let key = |h: &Hit| (h.passage.recording_id.clone(), h.passage.idx);
            match fused.iter_mut().find(|f| key(f) == key(&hit)) {
                Some(f) => {
                    f.score += add;
                    if f.highlights.is_empty() {
                        f.highlights = hit.highlights;
                    }
                }
                None => fused.push(Hit { score: add, ..hit }),
            }
        }
    }
    fused.sort_by(|a, b| b.score.total_cmp(&a.score));
    fused
}

/// A search index over passages and their vectors: the embedded engine (HNSW + tantivy) and
/// the scale-out ones implement it. Results are best first; callers page by asking for
/// `offset + limit` and skipping.
#[async_trait::async_trait]
pub trait SearchIndex: Send + Sync {
    /// The engine's name, for logs and health.
    fn name(&self) -> &'static str;
    /// Replaces a recording's passages (each with its vector) with these.
    async fn replace(&self, recording_id: &str, passages: Vec<(Passage, Vec<f32>)>) -> crate::Result<()>;
    /// Removes a recording's passages.
    async fn delete(&self, recording_id: &str) -> crate::Result<()>;
    /// Nearest passages to a query vector (cosine), filtered.
    async fn semantic(&self, vector: Vec<f32>, filter: &SearchFilter, limit: usize) -> crate::Result<Vec<Hit>>;
    /// Passages containing the query's words (with or without diacritics), filtered, with
    /// highlights.
    async fn keyword(&self, query: &str, filter: &SearchFilter, limit: usize) -> crate::Result<Vec<Hit>>;
    /// Whether the engine answers now, for `/health`.
    async fn health(&self) -> crate::Health;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> PassageMeta {
        PassageMeta { recording_id: "r".into(), language: "vi".into(), ..Default::default() }
    }

    #[test]
    fn passages_follow_segment_boundaries_with_overlap() {
        // Ten segments of 8 s each, back to back.
        let texts: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
        let segs: Vec<(f64, f64, &str)> =
            (0..10).map(|i| (i as f64 * 8.0, i as f64 * 8.0 + 8.0, texts[i].as_str())).collect();
        let p = cut_passages(&segs, 30.0, 10.0, &meta());
        // Windows of three segments (24 s <= 30 s); the next starts in the last 10 s.
        assert_eq!(p[0].text, "s0 s1 s2");
        assert_eq!((p[0].start, p[0].end), (0.0, 24.0));
        assert_eq!(p[1].text, "s2 s3 s4", "overlap: the cut's last segment starts the next");
        assert_eq!(p.last().map(|p| p.end), Some(80.0), "the end is covered");
        assert!(p.windows(2).all(|w| w[1].start > w[0].start && w[1].idx == w[0].idx + 1));
        // A segment longer than the window stands alone; empty segments are skipped.
        let long = [(0.0, 45.0, "long"), (45.0, 46.0, " "), (46.0, 50.0, "tail")];
        let p = cut_passages(&long, 30.0, 10.0, &meta());
        assert_eq!(p.iter().map(|p| p.text.as_str()).collect::<Vec<_>>(), ["long", "tail"]);
        assert!(cut_passages(&[], 30.0, 10.0, &meta()).is_empty());
    }

    fn hit(id: &str, idx: u32) -> Hit {
        Hit {
            passage: Passage {
                recording_id: id.into(),
                idx,
                start: 0.0,
                end: 1.0,
                text: String::new(),
                speaker: None,
                language: "vi".into(),
                tags: vec![],
                created_at: 0,
                tenant: "acme".into(),
            },
            score: 0.0,
            highlights: vec![],
        }
    }

    #[test]
    fn fusion_rewards_agreement() {
        let semantic = vec![hit("a", 0), hit("b", 0), hit("c", 0)];
        let keyword = vec![hit("b", 0), hit("d", 0)];
        let fused = fuse(vec![semantic, keyword]);
        let order: Vec<&str> = fused.iter().map(|h| h.passage.recording_id.as_str()).collect();
        // b: 1/62 + 1/61; a: 1/61; d: 1/62; c: 1/63.
        assert_eq!(order, ["b", "a", "d", "c"]);
    }

    #[test]
    fn filters() {
        let mut p = hit("a", 0).passage;
        p.speaker = Some("Lan".into());
        p.tags = vec!["news".into()];
        p.created_at = 100;
        assert!(
            SearchFilter { speaker: Some("Lan".into()), tag: Some("news".into()), ..Default::default() }.matches(&p)
        );
        assert!(!SearchFilter { language: Some("en".into()), ..Default::default() }.matches(&p));
        assert!(!SearchFilter { from: Some(101), ..Default::default() }.matches(&p));
        assert!(SearchFilter { tenant: Some("acme".into()), ..Default::default() }.matches(&p));
        for other in ["", "acm", "acme2"] {
            assert!(!SearchFilter { tenant: Some(other.into()), ..Default::default() }.matches(&p), "{other:?}");
        }
        assert!(SearchFilter { to: Some(100), ..Default::default() }.matches(&p));
    }
}
