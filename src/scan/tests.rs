use super::*;
use crate::boilerplate::{DEFAULT_MIN_DF, FrequentShingles};
use crate::relate::Relation;
use crate::shingle::ShingleSet;

/// Deterministic pseudo-text: words drawn by hashing (seed, position) from
/// a vocabulary of 20,000, so texts of different seeds share no runs.
fn article(seed: usize, words: usize) -> String {
    (0..words)
        .map(|i| {
            let h = xxhash_rust::xxh3::xxh3_64(format!("{seed}/{i}").as_bytes());
            format!("w{}", h % 20_000)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn scan_docs(docs: Vec<Document>) -> ScanOutcome {
    Scanner::new(ScanConfig::default()).unwrap().scan(docs).unwrap()
}

fn scan(texts: &[(&str, String)]) -> ScanOutcome {
    scan_docs(texts.iter().map(|(id, t)| Document::new(*id, t.clone())).collect())
}

fn triples(out: &ScanOutcome) -> Vec<(&str, &str, Relation)> {
    out.edges.iter().map(|e| (out.id(e.a), out.id(e.b), e.relation)).collect()
}

/// A site template of about 60 words (a header and a footer), with the page
/// number in each so the blocks stay short runs.
fn page(site: usize, n: usize, body: &str) -> String {
    format!(
        "The Site{site} Ledger Home News Sport Weather Login Subscribe today for full access to every story {n}\n\n\
         {body}\n\n\
         Download the Site{site} app for alerts. Follow us on WhatsApp. We use cookies to improve your \
         experience; by continuing you agree to our cookie policy. Newsletter: sign up for the daily \
         briefing. All rights reserved. Contact the newsroom. {n}"
    )
}

#[test]
fn finds_duplicates_near_duplicates_and_nothing_else() {
    let base = article(1, 300);
    let upper = base.to_uppercase().replace(' ', "\n  ");
    let edited = format!("{} extra closing words here", &base[..base.len() * 9 / 10]);
    let other = article(2, 300);
    let out = scan(&[("base", base), ("other", other), ("upper", upper), ("edited", edited)]);
    assert_eq!(
        triples(&out),
        [
            ("base", "upper", Relation::Duplicate),
            ("base", "edited", Relation::NearDuplicate),
            ("upper", "edited", Relation::NearDuplicate),
        ]
    );
    assert_eq!(out.clusters.len(), 1);
    assert_eq!(out.clusters[0].members, [0, 2, 3]);
    assert_eq!(out.stats.duplicate_groups, 1);
    assert_eq!(out.stats.representatives, 3);
}

#[test]
fn a_page_carrying_two_articles_contains_both_and_merges_neither() {
    let (a, b) = (article(10, 250), article(11, 250));
    let carrier = page(1, 0, &format!("{a}\n\n{b}"));
    let out = scan(&[("a", a), ("b", b), ("page", carrier)]);
    assert_eq!(
        triples(&out),
        [("a", "page", Relation::Contained), ("b", "page", Relation::Contained)]
    );
    assert!(out.clusters.is_empty(), "a page must not merge the stories it carries");
    // Evidence: one span per article, covering it.
    let evidence = out.evidence(0).unwrap();
    let ev = evidence.matched.as_ref().unwrap();
    assert_eq!(ev.spans.len(), 1);
    assert!(ev.matched_share > 0.99);
}

#[test]
fn pages_sharing_only_a_template_are_not_linked() {
    // Ten pages of one site, each carrying a short, different story: the
    // template is most of each page.
    let docs: Vec<Document> =
        (0..10).map(|n| Document::new(format!("p{n}"), page(2, n, &article(20 + n, 25)))).collect();
    let out = scan_docs(docs.clone());
    assert!(out.edges.is_empty(), "{:?}", triples(&out));
    assert!(out.clusters.is_empty());
    assert_eq!(out.stats.documents_with_boilerplate, 10);
    assert!(out.stats.boilerplate_only_pairs > 0);
    assert!((0..out.docs.len() as u32).all(|d| out.docs.info(d).unwrap().boilerplate_shingles > 0));
    // Without boilerplate detection the template alone links every page and
    // chains them into one cluster: this corpus does exercise the mechanism.
    let blind = ScanConfig {
        boilerplate: BoilerplateConfig { min_df: u32::MAX, ..BoilerplateConfig::default() },
        ..ScanConfig::default()
    };
    let out = Scanner::new(blind).unwrap().scan(docs).unwrap();
    assert_eq!(out.edges.len(), 45);
    assert_eq!(out.clusters[0].members.len(), 10);
}

#[test]
fn a_story_carried_by_many_pages_is_content_not_boilerplate() {
    let story = article(30, 300);
    let mut docs = vec![("story".to_string(), story.clone())];
    for n in 0..12 {
        docs.push((
            format!("p{n:02}"),
            // The story is under half of each page: carried, not copied.
            page(n, n, &format!("{}\n\n{story}", article(40 + n, 300))),
        ));
    }
    let docs: Vec<(&str, String)> = docs.iter().map(|(i, t)| (i.as_str(), t.clone())).collect();
    let out = scan(&docs);
    let contained: Vec<&str> = out
        .edges
        .iter()
        .filter(|e| e.relation == Relation::Contained && out.id(e.a) == "story")
        .map(|e| out.id(e.b))
        .collect();
    assert_eq!(contained.len(), 12, "{:?}", triples(&out));
    // Pages that share only the story they carry are not copies of each other.
    assert!(out.edges.iter().all(|e| out.id(e.a) == "story"), "{:?}", triples(&out));
}

#[test]
fn the_earliest_dated_copy_is_the_original() {
    let text = article(50, 200);
    let mut docs: Vec<Document> =
        ["x", "y", "z"].iter().map(|id| Document::new(*id, text.clone())).collect();
    docs[0].date = Some("2024-05-03".into());
    docs[1].date = Some("2024-05-01T10:00:00Z".into());
    let out = scan_docs(docs);
    let original = out.clusters[0].original;
    assert_eq!(out.id(original.original), "y");
    assert_eq!(original.reason, crate::attribute::AttributionReason::EarliestDate);
}

#[test]
fn empty_documents_are_never_paired() {
    let out = scan(&[("a", String::new()), ("b", "  ...  ".into()), ("c", article(3, 50))]);
    assert!(out.edges.is_empty());
    assert_eq!(out.stats.empty_documents, 2);
}

#[test]
fn repeated_ids_are_rejected() {
    let scanner = Scanner::new(ScanConfig::default()).unwrap();
    let docs = vec![Document::new("x", "a b c"), Document::new("x", "d e f")];
    assert!(matches!(scanner.scan(docs), Err(Error::DuplicateId(id)) if id == "x"));
}

#[test]
fn large_duplicate_groups_keep_a_star() {
    let text = article(4, 40);
    let docs: Vec<Document> =
        (0..100).map(|i| Document::new(format!("d{i:03}"), text.clone())).collect();
    let out = scan_docs(docs);
    // 100·99/2 = 4950 > 4096: a star of 99 edges.
    assert_eq!(out.edges.len(), 99);
    assert!(out.edges.iter().all(|e| e.a == 0));
    assert_eq!(out.stats.pairs_not_expanded, 4950 - 99);
    assert_eq!(out.clusters[0].members.len(), 100);
}

#[test]
fn invalid_configurations_are_refused() {
    let bad_relate = |f: fn(&mut RelateConfig)| {
        let mut relate = RelateConfig::default();
        f(&mut relate);
        ScanConfig { relate, ..ScanConfig::default() }
    };
    for config in [
        ScanConfig { shingle_size: 0, ..ScanConfig::default() },
        ScanConfig { num_hashes: 0, ..ScanConfig::default() },
        ScanConfig { bucket_cap: 1, ..ScanConfig::default() },
        ScanConfig { winnow_window: 0, ..ScanConfig::default() },
        ScanConfig { lsh: Some(LshParams { bands: 100, rows: 2 }), ..ScanConfig::default() },
        bad_relate(|r| r.near_threshold = 0.0),
        bad_relate(|r| r.contained_threshold = 1.5),
        bad_relate(|r| r.near_min_containment = -0.1),
    ] {
        assert!(matches!(Scanner::new(config), Err(Error::Config(_))));
    }
}

#[test]
fn scratch_files_and_tiny_sort_budgets_give_the_same_outcome() {
    let (a, b) = (article(70, 250), article(71, 250));
    let mut texts: Vec<(String, String)> = vec![
        ("a".into(), a.clone()),
        ("a-copy".into(), a.to_uppercase()),
        ("a-edit".into(), format!("{} and a new ending", &a[..a.len() * 9 / 10])),
        ("page".into(), page(3, 1, &format!("{a}\n\n{b}"))),
        ("b".into(), b.clone()),
    ];
    for n in 0..8 {
        texts.push((format!("other{n}"), page(4, n, &article(80 + n, 120))));
    }
    let docs = || -> Vec<Document> { texts.iter().map(|(i, t)| Document::new(i, t)).collect() };
    let scanner = Scanner::new(ScanConfig::default()).unwrap();
    let in_memory = scanner.scan(docs()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for sort_memory in [1 << 20, 1024] {
        let resources =
            Resources { spill: crate::spill::Spill::Dir(dir.path().into()), sort_memory };
        let on_disk = scanner.scan_with(docs(), &resources, &crate::progress::Silent).unwrap();
        assert_eq!(triples(&on_disk), triples(&in_memory), "sort memory {sort_memory}");
        assert_eq!(on_disk.clusters, in_memory.clusters);
        assert_eq!(on_disk.stats.candidate_pairs, in_memory.stats.candidate_pairs);
        assert_eq!(on_disk.stats.frequent_shingles, in_memory.stats.frequent_shingles);
        let evidence = |o: &ScanOutcome| {
            (0..o.edges.len()).map(|i| o.evidence(i).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(evidence(&on_disk), evidence(&in_memory));
        assert!(evidence(&in_memory).iter().any(|e| e.matched.is_some()));
        assert_eq!(on_disk.docs.text(3).unwrap(), texts[3].1);
    }
    assert!(triples(&in_memory).contains(&("a", "page", Relation::Contained)));
    // Scratch files are anonymous: nothing is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn frequent_shingles_are_those_of_min_df_distinct_documents() {
    // Templates of four sites on 40 pages; a passage carried by 4 texts
    // (below the default of 5 documents) and one by 6; exact copies of a
    // page count once.
    let mut texts: Vec<String> = (0..40).map(|n| page(n % 4, n, &article(200 + n, 80))).collect();
    for n in 0..4 {
        texts.push(format!("{} {}", article(300, 60), article(310 + n, 40)));
    }
    for n in 0..6 {
        texts.push(format!("{} {}", article(320 + n, 40), article(301, 60)));
    }
    for _ in 0..5 {
        texts.push(texts[0].clone());
    }
    let scanner = Scanner::new(ScanConfig::default()).unwrap();
    let mut distinct = texts.clone();
    distinct.sort();
    distinct.dedup();
    let sets: Vec<ShingleSet> =
        distinct.iter().map(|t| scanner.featurizer.featurize(t).shingles).collect();
    let reference =
        FrequentShingles::count(&sets.iter().collect::<Vec<_>>(), DEFAULT_MIN_DF).len() as u64;
    assert!(reference > 100, "{reference}");
    let docs = || texts.iter().enumerate().map(|(n, t)| Document::new(format!("t{n}"), t));
    let dir = tempfile::tempdir().unwrap();
    for resources in [
        Resources::default(),
        Resources { spill: crate::spill::Spill::Dir(dir.path().into()), sort_memory: 1 << 20 },
        Resources { spill: crate::spill::Spill::Dir(dir.path().into()), sort_memory: 1024 },
    ] {
        let out = scanner.scan_with(docs(), &resources, &crate::progress::Silent).unwrap();
        assert_eq!(out.stats.frequent_shingles, reference, "{resources:?}");
    }
}

#[test]
fn character_view_pairs_reach_the_pair_spill_only_with_two_shared_band_tags() {
    use crate::candidates::{BandTags, band_entry_key, pack};
    use candidate_pass::CHAR_VIEW;
    let scanner = Scanner::new(ScanConfig::default()).unwrap();
    let keys = |doc: u32| (0..8).map(move |band| (doc + 1) << 24 | band << 16);
    let mut tags = BandTags::new(8);
    // Doc 1 shares band 5 with doc 0; doc 2 shares bands 5 and 6 with doc 0,
    // so only band 5 with doc 1.
    tags.push(keys(0));
    tags.push(keys(1).enumerate().map(|(b, k)| if b == 5 { keys(0).nth(5).unwrap() } else { k }));
    tags.push(
        keys(2)
            .enumerate()
            .map(|(b, k)| if (5..=6).contains(&b) { keys(0).nth(b).unwrap() } else { k }),
    );
    let view_band = |view: u32, band: usize| (view << 8) as usize | band;
    let groups = vec![
        (band_entry_key(view_band(CHAR_VIEW, 5), 7), vec![0, 1, 2]),
        (band_entry_key(view_band(0, 5), 9), vec![0, 1]),
    ];
    let (mut packed, _) = scanner.band_pairs(&groups, &tags);
    packed.sort_unstable();
    assert_eq!(packed, [(pack(0, 1), 0), (pack(0, 2), CHAR_VIEW)]);
}

#[test]
fn character_view_candidates_are_the_pairs_with_two_shared_character_bands() {
    // Copies with one character misread in every third word: few shared
    // word or immutable shingles, many shared character n-grams.
    let misread = |text: &str| -> String {
        let words = text.split(' ').enumerate();
        let noisy = words.map(|(i, w)| if i % 3 == 0 { w.replacen('w', "v", 1) } else { w.into() });
        noisy.collect::<Vec<String>>().join(" ")
    };
    let mut texts = Vec::new();
    for n in 0..6 {
        let text = article(90 + n, 300);
        texts.push((format!("a{n}"), misread(&text)));
        texts.push((format!("b{n}"), text));
    }
    let scanner = Scanner::new(ScanConfig::default()).unwrap();
    let docs = || texts.iter().map(|(id, t)| Document::new(id, t)).collect::<Vec<_>>();
    let char_keys: Vec<Vec<(u16, u32)>> = docs()
        .into_iter()
        .map(|d| scanner.sketch(d).band_keys)
        .map(|keys| keys.into_iter().filter(|&(vb, _)| u32::from(vb >> 8) == 2).collect())
        .collect();
    let mut expected = 0;
    for (i, a) in char_keys.iter().enumerate() {
        for b in &char_keys[i + 1..] {
            let shared = a.iter().filter(|k| b.contains(k)).count() as u32;
            expected += u64::from(shared >= crate::spin::CHAR_MIN_BANDS);
        }
    }
    assert!(expected >= 3, "the test needs pairs that share two character bands");
    let out = scanner.scan(docs()).unwrap();
    assert_eq!(out.stats.char_candidates, expected);
}

#[test]
fn a_document_with_boilerplate_keeps_its_full_set_and_its_content_count() {
    // Eight pages of one template: three carry a short story of their own
    // (every run of frequent shingles is short, decided from counts), five
    // the same long story (frequent, but a long run: decided from the text).
    let shared = article(61, 200);
    let texts: Vec<String> = (0..8)
        .map(|n| page(6, n, &if n < 3 { article(100 + n, 40) } else { shared.clone() }))
        .collect();
    let scanner = Scanner::new(ScanConfig::default()).unwrap();
    let resources = Resources::default();
    let docs = texts.iter().enumerate().map(|(n, t)| Document::new(format!("p{n}"), t));
    let (mut corpus, spills, _) = scanner
        .sketch_all(docs, |d| d.body.len(), |d| scanner.sketch(d), &resources, &Silent)
        .unwrap();
    let mut passages = spills.passages;
    let mut stats = ScanStats::default();
    scanner
        .find_boilerplate(
            &mut corpus,
            spills.shingle_keys,
            &mut passages,
            &resources,
            &Silent,
            &mut stats,
        )
        .unwrap();
    assert_eq!(stats.documents_with_boilerplate, 8);
    for (d, text) in texts.iter().enumerate() {
        let d = d as u32;
        let full = scanner.featurizer.featurize(text).shingles;
        let sets = corpus.load_sets(d).unwrap();
        assert!(!sets.boilerplate.is_empty(), "page {d}");
        assert!(sets.boilerplate.iter().all(|&h| !sets.content.contains(h)), "page {d}");
        let mut union: Vec<u64> =
            sets.content.as_slice().iter().chain(&sets.boilerplate).copied().collect();
        union.sort_unstable();
        assert_eq!(union, full.as_slice(), "page {d}");
        assert_eq!(corpus.content_len(d) as usize, sets.content.len(), "page {d}");
        // The shared story is content, not boilerplate.
        if d >= 3 {
            assert!(sets.content.len() > 150, "page {d}: {}", sets.content.len());
        }
    }
}
