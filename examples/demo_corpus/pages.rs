//! Aggregator pages and teasers for the demo corpus.
//!
//! Three site templates written for the project (mastheads, navigation,
//! trending lists, share lines, app banners, cookie notices, newsletter and
//! legal footers) carry the demo articles. Each carried article appears once
//! in full and once as a teaser (headline and first two paragraphs) on
//! another page, and some articles also get a standalone teaser document.
//! The templates are deliberately heavy: a page carrying only one teaser is
//! mostly template. Without boilerplate detection, pages of one site would
//! look contained in each other.

use crate::{Article, pick};

/// One site template.
pub struct Template {
    pub name: &'static str,
    header: &'static str,
    byline: &'static str,
    item_footer: &'static str,
    teaser_trailer: &'static str,
    footer: &'static str,
    upper_headlines: bool,
}

pub const TEMPLATES: [Template; 3] = [
    Template {
        name: "courier",
        header: "The Wendle Valley Courier\nHome | Local | Sport | Business | Environment | Opinion | Puzzles | Subscribe\nWeather: {temp}C, {sky} | {day}\nTrending now: {trending}",
        byline: "By Courier staff | Updated {hours}h ago",
        item_footer: "Share this story: Facebook | X | WhatsApp | Email",
        teaser_trailer: "Continue reading on the Courier website",
        footer: "Download the Courier app: the valley's news, weather and traffic on your phone, with alerts for the stories you follow. Free on the App Store and Google Play.\n\nWe use cookies to make this site work and to understand how you use it. You can accept all cookies or choose which ones to allow in your settings. [Accept all] [Manage settings]\n\nNewsletter: sign up for the Courier Morning Briefing and get the day's top stories in your inbox before breakfast.\n\nWendle Valley Courier Ltd. All rights reserved. Registered in England. Terms | Privacy | Contact the newsroom",
        upper_headlines: false,
    },
    Template {
        name: "gazette",
        header: "HARLOW VALE GAZETTE | Your town, your news\nMenu: News | Council | Schools | Sport | What's on | Jobs | Property | Announcements\n{day} | Read today's print edition online\nMost popular: {trending}",
        byline: "Gazette reporter | {hours} hours ago | 3 min read",
        item_footer: "Advertisement\n\nComments (0) Be the first to comment. Please keep comments civil and on topic.",
        teaser_trailer: "Read more",
        footer: "Follow the Gazette on WhatsApp for breaking news alerts, and join our community group to share your photos and stories.\n\nThe Harlow Vale Gazette is a member of the Independent Press Standards Organisation. If you have a complaint about editorial content, please contact the editor first.\n\nCopyright Gazette Media. No part of this site may be reproduced without permission. Cookie policy | Privacy notice | Accessibility",
        upper_headlines: true,
    },
    Template {
        name: "newsroll",
        header: "NewsRoll: stories from around the region, updated every hour\nTop | Local | National | Tech | Sport | Weather\nYou are reading the {day} edition. Popular today: {trending}",
        byline: "Source: regional press | Posted {hours} hours ago",
        item_footer: "Like | Save | Share | Report this story",
        teaser_trailer: "Tap to read the full story",
        footer: "Get the NewsRoll app: all your local papers in one place, with offline reading and a personalised morning digest. Available for iPhone and Android.\n\nThis site uses cookies and similar technologies for analytics and advertising. By continuing to browse you agree to our use of cookies. [OK] [Learn more]\n\nNewsRoll collects stories from regional publishers. Headlines and summaries are provided under licence. About | Advertise | Help centre",
        upper_headlines: false,
    },
];

const SKIES: [&str; 4] = ["sunny intervals", "light rain", "overcast", "clear skies"];
const DAYS: [&str; 5] = [
    "Monday 3 March",
    "Tuesday 11 March",
    "Thursday 20 March",
    "Saturday 29 March",
    "Wednesday 2 April",
];

/// How an article appears on a page.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Carry {
    Full,
    Teaser,
}

/// The headline and first two paragraphs of an article.
pub fn teaser_paragraphs(article: &Article) -> Vec<String> {
    article.paragraphs.iter().take(2).cloned().collect()
}

/// A standalone teaser document: headline, first two paragraphs and a link
/// line.
pub fn teaser_document(article: &Article) -> String {
    let mut out = article.headline.clone();
    for p in teaser_paragraphs(article) {
        out.push_str("\n\n");
        out.push_str(&p);
    }
    out.push_str("\n\nRead the full story at the Wendle Valley Courier.\n");
    out
}

/// Renders page number `n` of `template`, carrying `items`.
pub fn render_page(
    template: &Template,
    n: usize,
    items: &[(&Article, Carry)],
    all: &[Article],
) -> String {
    let label = format!("{}/{n}", template.name);
    let trending: Vec<&str> = (0..3)
        .map(|k| all[pick(&format!("{label}/trending/{k}"), all.len())].headline.as_str())
        .collect();
    let mut out = template
        .header
        .replace("{temp}", &(4 + pick(&format!("{label}/temp"), 15)).to_string())
        .replace("{sky}", SKIES[pick(&format!("{label}/sky"), SKIES.len())])
        .replace("{day}", DAYS[n % DAYS.len()])
        .replace("{trending}", &trending.join(" | "));
    for (k, (article, carry)) in items.iter().enumerate() {
        let headline = if template.upper_headlines {
            article.headline.to_uppercase()
        } else {
            article.headline.clone()
        };
        let hours = 1 + pick(&format!("{label}/hours/{k}"), 11);
        out.push_str(&format!(
            "\n\n{headline}\n{}",
            template.byline.replace("{hours}", &hours.to_string())
        ));
        let paragraphs = match carry {
            Carry::Full => article.paragraphs.clone(),
            Carry::Teaser => teaser_paragraphs(article),
        };
        for p in paragraphs {
            out.push_str("\n\n");
            out.push_str(&p);
        }
        if *carry == Carry::Teaser {
            out.push_str("\n\n");
            out.push_str(template.teaser_trailer);
        }
        out.push_str("\n\n");
        out.push_str(template.item_footer);
    }
    out.push_str("\n\n");
    out.push_str(template.footer);
    out.push('\n');
    out
}
