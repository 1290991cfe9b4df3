//! Parsing the five shipped maturity documents into the sections a reader sees.

use sextant::guidance::{Corpus, EMBEDDED, Revision, Section, parse_markdown, parse_text};
use sextant::lang::Lang;
use std::collections::HashSet;

fn doc(name: &str) -> &'static str {
    EMBEDDED
        .iter()
        .find(|(f, _)| *f == name)
        .map(|(_, c)| *c)
        .unwrap_or_else(|| panic!("{name} not embedded"))
}

fn headings(s: &[Section]) -> Vec<&str> {
    s.iter().map(|s| s.heading.as_str()).collect()
}

fn top_level() -> HashSet<String> {
    [
        "People",
        "Process",
        "Policy",
        "Technology",
        "Business Outcomes",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn assert_clean(s: &[Section]) {
    for sec in s {
        for bad in [
            "<i",
            "</i>",
            "**",
            "---",
            "title:",
            "description:",
            "](",
            "##",
        ] {
            assert!(
                !sec.text.contains(bad),
                "{bad:?} in {}: {}",
                sec.id,
                sec.text
            );
            assert!(
                !sec.heading.contains(bad),
                "{bad:?} in heading {}",
                sec.heading
            );
        }
        assert!(!sec.text.trim().is_empty(), "{} is empty", sec.id);
        assert_eq!(sec.level, 4, "{}", sec.id);
        assert!(
            sec.lines.0 >= 1 && sec.lines.1 >= sec.lines.0,
            "{} {:?}",
            sec.id,
            sec.lines
        );
    }
}

#[test]
fn current_english_revision() {
    let s = parse_markdown("level-4.en.md", doc("level-4.en.md"));
    assert_eq!(s.len(), 25, "{:#?}", headings(&s));
    assert_clean(&s);
    let h = headings(&s);
    assert_eq!(h[0], "Level 4 - Improve", "front matter title");
    assert_eq!(
        s[0].text,
        "You are improving security, policy and governance across your environment."
    );
    for want in [
        "Business Outcomes",
        "Business Outcomes > Cost",
        "People > Security",
        "Process > Security",
        "People > AI",
        "Policy > AI",
        "Technology > AI",
        "Policy > Implementation and Compliance",
        "Technology > Security and Policy",
        "Technology > Cost Efficiency, Resource Usage and Sustainability",
    ] {
        assert!(h.contains(&want), "{want} missing: {h:#?}");
    }
    // Headings that occur twice get distinct ids.
    let ids: HashSet<&str> = s.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), s.len());
    // The repeated paragraph pair in Platforms and Infrastructure is kept once.
    let platforms = s
        .iter()
        .find(|s| s.heading == "Technology > Platforms and Infrastructure")
        .expect("platforms");
    assert_eq!(
        platforms
            .text
            .matches("Your deployment and operating models have been further refined")
            .count(),
        1
    );
    assert_eq!(platforms.lines.0, 110, "line of its heading");
    assert!(
        s.iter()
            .all(|s| s.revision == Revision::Current && s.lang == Lang::En)
    );
}

#[test]
fn earlier_revision_markdown_and_text_agree() {
    let md = parse_markdown("level-4.en.v1.md", doc("level-4.en.v1.md"));
    let txt = parse_text("level-4.en.v1.txt", doc("level-4.en.v1.txt"), &top_level());
    assert_eq!(md.len(), 25, "{:#?}", headings(&md));
    assert_eq!(txt.len(), 25, "{:#?}", headings(&txt));
    assert_clean(&md);
    assert_clean(&txt);
    assert!(headings(&md).contains(
        &"People > CNCF Certifications > Certified Kubernetes Security Specialist (CKS)"
    ));
    assert!(headings(&txt).contains(&"Technology > Testing and Issue Detection"));
    assert!(headings(&txt).contains(&"Business Outcomes"));
    // Bullets survive as bullets; the page footer does not.
    let bo = txt
        .iter()
        .find(|s| s.heading == "Business Outcomes")
        .expect("bo");
    assert!(
        bo.text.contains("• Established protocols and procedures"),
        "{}",
        bo.text
    );
    assert!(!bo.text.contains("Last modified"));
    assert!(md.iter().all(|s| s.revision == Revision::Earlier));
}

#[test]
fn german_and_mixed_chinese() {
    let de = parse_markdown("level-4.de.md", doc("level-4.de.md"));
    assert_eq!(de.len(), 25);
    assert_clean(&de);
    assert!(
        de.iter().all(|s| s.lang == Lang::De),
        "{:?}",
        de.iter().map(|s| (&s.heading, s.lang)).collect::<Vec<_>>()
    );
    assert!(headings(&de).contains(&"Technologie > Sicherheit und Richtlinien"));

    let zh = parse_markdown("level-4.zh.md", doc("level-4.zh.md"));
    assert_eq!(zh.len(), 25);
    assert_clean(&zh);
    let chinese: Vec<&str> = zh
        .iter()
        .filter(|s| s.lang == Lang::Zh)
        .map(|s| s.heading.as_str())
        .collect();
    assert_eq!(
        chinese,
        [
            "Level 4 - 改进",
            "人员 > 人员概述",
            "人员 > 组织变革",
            "人员 > 团队和分权化",
            "人员 > 安全性",
            "人员 > 开发者敏捷性",
            "人员 > 提升开发者技能"
        ]
    );
    assert!(
        zh.iter()
            .any(|s| s.heading == "Policy > Compliance" && s.lang == Lang::En)
    );
}

#[test]
fn near_duplicates_collapse_into_the_preferred_copy_with_aliases() {
    let c = Corpus::embedded();
    assert_eq!(c.parsed, 125);
    let per_file = c.per_file();
    assert_eq!(per_file.get("level-4.en.md"), Some(&25));
    assert_eq!(per_file.get("level-4.de.md"), Some(&25));
    assert_eq!(
        per_file.get("level-4.zh.md"),
        Some(&7),
        "only its Chinese sections stay"
    );
    assert_eq!(
        per_file.get("level-4.en.v1.txt"),
        None,
        "the text rendering is all aliases"
    );
    // A citation to any copy resolves to the canonical section.
    let canon = c
        .resolve("level-4.en.v1.txt/technology/security-and-policy")
        .expect("txt alias");
    assert_eq!(canon.id, "level-4.en.v1/technology/security-and-policy");
    let canon = c
        .resolve("level-4.zh/policy/compliance")
        .expect("zh English half");
    assert_eq!(canon.file, "level-4.en.v1.md");
    // The current revision wins when it repeats the earlier one word for word.
    let sec = c
        .resolve("level-4.en.v1/process/security")
        .expect("v1 process security");
    assert_eq!(sec.file, "level-4.en.md");
    assert!(c.resolve("level-4.en/technology/no-such-section").is_none());
}

#[test]
fn extra_corpora_add_or_replace() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("level-3.en.md"),
        "---\ntitle: Level 3 - Scale\ndescription: You are scaling.\n---\n\n## People\n\n### Teams\nTeams own their services end to end.\n",
    )
    .expect("write");
    let both = Corpus::load(&[dir.path().to_path_buf()], false).expect("load");
    let l3 = both
        .resolve("level-3.en/people/teams")
        .expect("level 3 section");
    assert_eq!(l3.level, 3);
    assert!(
        both.resolve("level-4.en/technology/security-and-policy")
            .is_some()
    );
    let only = Corpus::load(&[dir.path().to_path_buf()], true).expect("load");
    assert_eq!(only.sections().len(), 2);
    let e = Corpus::load(&[dir.path().join("missing")], false).expect_err("missing dir");
    assert!(e.to_string().contains("--guidance"), "{e}");
}
