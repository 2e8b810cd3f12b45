//! A small synonym spinner for the demo corpus, written for the project.
//!
//! It works like the thesaurus spinners content farms use. Words found in its
//! synonym table are replaced by a fixed synonym, sometimes a phrase of
//! several words. Capitals are kept, and names, numbers and function words are
//! left alone. The table below was written for this project (same licence as
//! the project); it covers the frequent content words of the demo articles.

use super::pick;

/// `(word, replacement)`: the first-choice synonym of each word.
pub(crate) const SYNONYMS: &[(&str, &str)] = &[
    ("years", "twelvemonths"),
    ("year", "twelvemonth"),
    ("people", "individuals"),
    ("first", "initial"),
    ("council", "authority"),
    ("million", "meg"),
    ("next", "following"),
    ("local", "native"),
    ("every", "each and every"),
    ("last", "final"),
    ("town", "township"),
    ("company", "firm"),
    ("village", "hamlet"),
    ("time", "clock time"),
    ("take", "accept"),
    ("road", "route"),
    ("plan", "scheme"),
    ("hours", "time of day"),
    ("days", "years"),
    ("water", "body of water"),
    ("region", "area"),
    ("many", "numerous"),
    ("homes", "dwellings"),
    ("away", "off"),
    ("trust", "reliance"),
    ("school", "schoolhouse"),
    ("never", "ne'er"),
    ("made", "produced"),
    ("county", "shire"),
    ("station", "post"),
    ("several", "respective"),
    ("says", "states"),
    ("river", "watercourse"),
    ("national", "home"),
    ("minutes", "proceedings"),
    ("found", "establish"),
    ("built", "constructed"),
    ("without", "without having"),
    ("used", "exploited"),
    ("theatre", "dramaturgy"),
    ("taken", "occupied"),
    ("staff", "faculty"),
    ("hospital", "infirmary"),
    ("back", "rear"),
    ("around", "about"),
    ("almost", "nearly"),
    ("across", "crosswise"),
    ("young", "immature"),
    ("work", "piece of work"),
    ("traffic", "dealings"),
    ("street", "thoroughfare"),
    ("small", "little"),
    ("race", "raceway"),
    ("pupils", "students"),
    ("plans", "programs"),
    ("place", "spot"),
    ("opened", "unfastened"),
    ("night", "nighttime"),
    ("near", "close"),
    ("lost", "mislaid"),
    ("library", "depository library"),
    ("including", "admit"),
    ("health", "wellness"),
    ("group", "grouping"),
    ("final", "last"),
    ("festival", "fete"),
    ("farmers", "husbandmen"),
    ("down", "downwardly"),
    ("children", "kids"),
    ("centre", "middle"),
    ("building", "edifice"),
    ("unit", "whole"),
    ("team", "squad"),
    ("summer", "summertime"),
    ("still", "even so"),
    ("should", "ought to"),
    ("shop", "store"),
    ("service", "serving"),
    ("room", "elbow room"),
    ("result", "consequence"),
    ("residents", "occupants"),
    ("past", "yesteryear"),
    ("number", "figure"),
    ("museum", "depository"),
    ("months", "calendar months"),
    ("month", "calendar month"),
    ("long", "retentive"),
    ("keep", "hold on"),
    ("independent", "self-governing"),
    ("hour", "hr"),
    ("home", "dwelling house"),
    ("former", "early"),
    ("field", "battlefield"),
    ("during", "throughout"),
    ("director", "manager"),
    ("closed", "shut"),
    ("close", "near"),
    ("change", "alteration"),
    ("came", "arrived"),
    ("become", "go"),
    ("against", "versus"),
    ("winter", "wintertime"),
    ("whole", "entire"),
    ("warned", "cautioned"),
    ("until", "till"),
    ("took", "adopted"),
    ("survey", "study"),
    ("storm", "tempest"),
    ("side", "face"),
    ("shows", "displays"),
    ("rain", "rainfall"),
    ("rail", "railing"),
    ("power", "force"),
    ("port", "embrasure"),
    ("part", "portion"),
    ("panels", "panes"),
    ("meeting", "encounter"),
    ("help", "assistance"),
    ("heavy", "weighty"),
    ("half", "one-half"),
    ("good", "skillful"),
    ("further", "farther"),
    ("fund", "monetary fund"),
    ("free", "complimentary"),
    ("food", "nutrient"),
    ("engineering", "technology"),
    ("club", "cabaret"),
    ("care", "attention"),
    ("business", "concern"),
    ("budget", "budgetary plan"),
    ("area", "country"),
    ("works", "deeds"),
    ("wins", "victories"),
    ("week", "hebdomad"),
    ("ward", "wardship"),
    ("visitors", "visitants"),
    ("using", "victimisation"),
    ("train", "string"),
    ("told", "narrated"),
    ("today", "nowadays"),
    ("through", "done"),
    ("stood", "digest"),
    ("start", "beginning"),
    ("stage", "phase"),
    ("spring", "springtime"),
    ("site", "situation"),
    ("show", "display"),
    ("services", "services"),
    ("second", "2nd"),
    ("scheme", "strategy"),
    ("record", "disc"),
    ("raised", "elevated"),
    ("published", "print"),
    ("public", "populace"),
    ("pool", "puddle"),
    ("play", "drama"),
    ("planning", "provision"),
    ("park", "parkland"),
    ("opening", "gap"),
    ("once", "erstwhile"),
    ("needed", "required"),
    ("move", "motion"),
    ("miles", "stat mi"),
    ("main", "chief"),
    ("included", "admitted"),
    ("high", "eminent"),
    ("hall", "manor hall"),
    ("ground", "land"),
    ("finished", "complete"),
    ("find", "discovery"),
    ("fell", "vicious"),
    ("farms", "farming"),
    ("farm", "grow"),
    ("exhibition", "expo"),
    ("evening", "eventide"),
    ("engineers", "technologists"),
    ("electricity", "electrical energy"),
    ("election", "elections"),
    ("customers", "clients"),
    ("cost", "price"),
    ("construction", "building"),
    ("coins", "mints"),
    ("coast", "seashore"),
    ("changed", "altered"),
    ("ceiling", "cap"),
    ("campaign", "run"),
    ("businesses", "concerns"),
    ("bread", "breadstuff"),
    ("books", "volumes"),
    ("beaches", "shores"),
    ("autumn", "fall"),
    ("wrong", "incorrect"),
    ("working", "operative"),
    ("worked", "functioned"),
    ("women", "womanhood"),
    ("wind", "air current"),
    ("weather", "atmospheric condition"),
    ("voted", "elected"),
    ("volunteers", "voluntaries"),
    ("union", "unification"),
    ("trees", "shoes"),
    ("teacher", "instructor"),
    ("times", "multiplication"),
    ("surgery", "operating room"),
    ("strike", "work stoppage"),
    ("streets", "roads"),
    ("stay", "stick"),
    ("spent", "expended"),
    ("spaces", "places"),
    ("software", "package"),
    ("smaller", "littler"),
    ("season", "time of year"),
    ("schools", "schooltimes"),
    ("save", "salvage"),
    ("runners", "smugglers"),
    ("roof", "roofing"),
    ("risen", "arisen"),
    ("retired", "retreated"),
    ("restored", "reconstructed"),
    ("report", "study"),
    ("repairs", "fixes"),
    ("regional", "local"),
    ("recorded", "enter"),
    ("reading", "interpretation"),
    ("read", "say"),
    ("rating", "evaluation"),
    ("rather", "instead"),
    ("raise", "lift"),
    ("project", "undertaking"),
    ("popular", "pop"),
    ("played", "toyed"),
    ("parking", "park"),
    ("parents", "rear"),
    ("original", "master"),
    ("open", "unfastened"),
    ("need", "demand"),
    ("music", "medicine"),
    ("money", "cash"),
    ("members", "appendages"),
    ("medical", "aesculapian"),
    ("lines", "lines of business"),
    ("levels", "degrees"),
    ("less", "lupus erythematosus"),
    ("largest", "biggest"),
    ("lanes", "lane"),
    ("land", "demesne"),
    ("kept", "held"),
    ("jobs", "occupations"),
    ("investment", "investiture"),
    ("housing", "lodging"),
    ("house", "household"),
    ("head", "caput"),
    ("grant", "allow"),
    ("government", "authorities"),
    ("give", "yield"),
    ("garden", "garden plant"),
    ("games", "plot"),
    ("full", "total"),
    ("fields", "fields of study"),
    ("fallen", "dropped"),
    ("event", "case"),
    ("each", "apiece"),
    ("display", "show"),
    ("decision", "determination"),
    ("decades", "decennaries"),
    ("crowd", "crowd together"),
    ("costs", "monetary value"),
    ("come", "follow"),
    ("clean", "uninfected"),
    ("checking", "checkout"),
    ("championship", "title"),
    ("century", "hundred"),
    ("candidate", "prospect"),
    ("bridge", "span"),
    ("branch", "subdivision"),
    ("best", "topper"),
    ("approved", "sanctioned"),
    ("along", "on"),
    ("alone", "lone"),
    ("allowed", "permitted"),
    ("workers", "proletarian"),
    ("winning", "victorious"),
    ("welcomed", "greeted"),
    ("weeks", "hebdomads"),
    ("weekend", "week-end"),
    ("travel", "go"),
    ("trade", "craft"),
    ("tickets", "slates"),
    ("thousands", "chiliads"),
    ("thought", "idea"),
    ("think", "believe"),
    ("tell", "state"),
    ("target", "mark"),
    ("swimming", "swim"),
    ("started", "begun"),
    ("somewhere", "someplace"),
    ("single", "unmarried"),
    ("shown", "shew"),
    ("showers", "rainfalls"),
    ("shops", "workshops"),
    ("round", "circular"),
    ("rise", "ascent"),
    ("review", "reexamination"),
    ("restore", "reconstruct"),
    ("rest", "remainder"),
    ("responsible", "creditworthy"),
    ("require", "want"),
    ("reported", "describe"),
    ("replaced", "substituted"),
    ("repair", "fix"),
    ("recent", "late"),
    ("rates", "rates of pay"),
    ("railway", "railroad"),
    ("quality", "caliber"),
    ("qualified", "restricted"),
    ("producing", "bring forth"),
    ("previous", "old"),
    ("leader", "chief"),
    ("war", "warfare"),
    ("latest", "newest"),
    ("more", "extra"),
    ("said", "stated"),
    ("announced", "proclaimed"),
    ("added", "supplemental"),
    ("believe", "think"),
    ("important", "significant"),
    ("large", "big"),
    ("began", "commenced"),
    ("because", "since"),
    ("expected", "anticipated"),
    ("plants", "flora"),
    ("result", "outcome"),
];

/// Words a spinner leaves alone even if it has a synonym for them.
pub(crate) const KEEP: &[&str] =
    &["the", "a", "an", "and", "of", "to", "in", "on", "at", "for", "with", "by", "is", "was"];

fn synonym(word: &str) -> Option<&'static str> {
    let lower = word.to_lowercase();
    if KEEP.contains(&lower.as_str()) {
        return None;
    }
    SYNONYMS.iter().find(|(w, _)| *w == lower).map(|(_, s)| *s)
}

/// Spins `text`: about `rate` of its content words (words of four letters or
/// more) are replaced, chosen by a hash of `label` and their position among
/// the words the table knows. Returns the text and the share achieved.
pub fn spin(text: &str, rate: f64, label: &str) -> (String, f64) {
    // Words are runs of ASCII letters (with an inner apostrophe); everything
    // else is copied as is.
    let mut words: Vec<(usize, usize)> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphabetic()
                    || (bytes[i] == b'\''
                        && i + 1 < bytes.len()
                        && bytes[i + 1].is_ascii_alphabetic()))
            {
                i += 1;
            }
            words.push((start, i));
        } else {
            i += 1;
        }
    }
    let content = words.iter().filter(|&&(s, e)| e - s >= 4).count().max(1);
    // Names stay: a capitalised word that does not start a sentence.
    let starts_sentence = |s: usize| {
        text[..s].trim_end_matches([' ', '"', '\'', '\u{201c}']).ends_with(['.', '!', '?', '\n'])
            || s == 0
    };
    let mut known: Vec<usize> = (0..words.len())
        .filter(|&k| {
            let (s, e) = words[k];
            let w = &text[s..e];
            let capital = w.chars().next().is_some_and(char::is_uppercase);
            synonym(w).is_some() && (!capital || starts_sentence(s))
        })
        .collect();
    known.sort_by_key(|&k| pick(&format!("{label}/{k}"), 1 << 30));
    let wanted = ((rate * content as f64).round() as usize).min(known.len());
    let mut chosen: Vec<usize> = known[..wanted].to_vec();
    chosen.sort_unstable();
    let mut out = String::with_capacity(text.len() + text.len() / 5);
    let mut copied = 0;
    for k in chosen {
        let (s, e) = words[k];
        let original = &text[s..e];
        let mut replacement = synonym(original).unwrap_or(original).to_string();
        if original.chars().next().is_some_and(char::is_uppercase) {
            let mut c = replacement.chars();
            if let Some(first) = c.next() {
                replacement = first.to_uppercase().chain(c).collect();
            }
        }
        out.push_str(&text[copied..s]);
        out.push_str(&replacement);
        copied = e;
    }
    out.push_str(&text[copied..]);
    (out, wanted as f64 / content as f64)
}

/// A spam site's header and footer, written for the project.
pub fn spam_wrapper(body: &str, n: usize) -> String {
    let sites = ["DailyBuzzHub", "NewsFlashNow", "TopStoryToday"];
    let site = sites[n % sites.len()];
    format!(
        "{site} | Trending | Latest Updates | Subscribe\n\n{body}\n\nShare this: Facebook | Twitter | Pinterest\n\nRelated Posts\n\nContinue Reading\n\nCopyright {site}. All rights reserved.\n"
    )
}
