// neardup HTML report. Every text that comes from the data is put on the
// page with textContent or as an attribute value set through the DOM, never
// parsed as markup.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("neardup-data").textContent);
  const RELATIONS = ["duplicate", "near_duplicate", "contained", "spun"];
  const LABEL = { duplicate: "duplicate", near_duplicate: "near duplicate", contained: "contained", spun: "spun" };
  const COLOR = { duplicate: "#6a4c93", near_duplicate: "#1982c4", contained: "#8ac926", spun: "#ff595e" };
  const PAGE = 100;
  const docs = DATA.docs, pairs = DATA.pairs, clusters = DATA.clusters;
  pairs.forEach((p, i) => { p.index = i; });

  // Small DOM builder: el("div", {class: "x"}, child, "text", ...).
  function el(tag, attrs, ...children) {
    const node = tag === "svg" || SVG_TAGS.has(tag)
      ? document.createElementNS("http://www.w3.org/2000/svg", tag)
      : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "onclick") node.addEventListener("click", v);
      else if (v !== null && v !== undefined) node.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      node.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  const SVG_TAGS = new Set(["rect", "text", "g", "line", "title"]);
  const fmt = (x) => (x === null || x === undefined ? "–" : Number(x).toFixed(3));
  const pct = (x) => Math.round(x * 100) + "%";
  const badge = (r) => el("span", { class: "badge r-" + r }, LABEL[r]);
  const docLink = (i) => el("span", { class: "id" }, docs[i].id);

  const counts = {};
  RELATIONS.forEach((r) => { counts[r] = 0; });
  pairs.forEach((p) => { counts[p.relation] += 1; });

  // ---------- routing ----------
  const main = el("main", {});
  const nav = el("nav", {});
  const header = el("header", {}, el("h1", {}, "neardup report"), nav, el("span", { class: "title" }, DATA.title));
  document.body.append(header, main);
  const TABS = [["overview", "Overview"], ["pairs", "Pairs"], ["clusters", "Clusters"]];

  function parseHash() {
    // Split off the query before decoding: a document id in it may hold
    // "&", "?" or "#", encoded (URLSearchParams decodes its own values).
    const raw = location.hash.slice(1) || "overview";
    const at = raw.indexOf("?");
    const path = at < 0 ? raw : raw.slice(0, at);
    const params = new URLSearchParams(at < 0 ? "" : raw.slice(at + 1));
    return { parts: path.split("/").map(decodeURIComponent), params };
  }
  function go(hash) { location.hash = hash; }
  function route() {
    const { parts, params } = parseHash();
    main.replaceChildren();
    const tab = parts[0] === "pair" ? "pairs" : parts[0] === "cluster" ? "clusters" : parts[0];
    nav.replaceChildren(...TABS.map(([k, v]) => el("a", { href: "#" + k, class: k === tab ? "active" : null }, v)));
    if (parts[0] === "pairs") showPairs(params);
    else if (parts[0] === "pair") showPair(Number(parts[1]));
    else if (parts[0] === "clusters") showClusters();
    else if (parts[0] === "cluster") showCluster(parts.slice(1).join("/"));
    else showOverview();
    window.scrollTo(0, 0);
  }
  window.addEventListener("hashchange", route);

  // ---------- charts ----------
  function barChart(bins, opts) {
    // bins: [{label, parts: [{value, color, name}], onclick}]
    const w = 460, h = 180, left = 34, bottom = 28;
    const max = Math.max(1, ...bins.map((b) => b.parts.reduce((s, p) => s + p.value, 0)));
    const bw = (w - left) / bins.length;
    const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, width: "100%", role: "img", "aria-label": opts.label });
    svg.append(el("line", { x1: left, y1: h - bottom, x2: w, y2: h - bottom, stroke: "#ccc" }));
    svg.append(el("text", { x: 2, y: 12 }, String(max)));
    bins.forEach((b, i) => {
      let y = h - bottom;
      const g = el("g", { class: "bar", style: b.onclick ? "cursor:pointer" : null, onclick: b.onclick });
      b.parts.forEach((p) => {
        if (!p.value) return;
        const bh = (p.value / max) * (h - bottom - 16);
        y -= bh;
        g.append(el("rect", { x: left + i * bw + 1, y, width: Math.max(1, bw - 2), height: bh, fill: p.color },
          el("title", {}, `${b.label}: ${p.value}${p.name ? " " + p.name : ""}`)));
      });
      svg.append(g);
      if (opts.every === undefined || i % opts.every === 0)
        svg.append(el("text", { x: left + i * bw + bw / 2, y: h - bottom + 14, "text-anchor": "middle" }, b.label));
    });
    svg.append(el("text", { x: w / 2, y: h - 2, "text-anchor": "middle" }, opts.axis));
    return svg;
  }
  function legend() {
    return el("div", { class: "legend" }, RELATIONS.map((r) => el("span", {}, el("i", { style: "background:" + COLOR[r] }), LABEL[r])));
  }

  // ---------- overview ----------
  function showOverview() {
    main.append(el("h2", {}, "Overview"));
    if (DATA.total_pairs > pairs.length)
      main.append(el("p", { class: "banner" }, `This report shows ${pairs.length} of the scan's ${DATA.total_pairs} pairs.`));
    const cards = el("div", { class: "cards" });
    if (DATA.scanned !== null) cards.append(el("div", { class: "card" }, el("b", {}, DATA.scanned), "documents scanned"));
    cards.append(el("div", { class: "card" }, el("b", {}, pairs.length), "related pairs"));
    cards.append(el("div", { class: "card" }, el("b", {}, clusters.length), "clusters"));
    RELATIONS.forEach((r) => cards.append(el("div", { class: "card rel r-" + r, onclick: () => go("pairs?rel=" + r) },
      el("b", {}, counts[r]), LABEL[r])));
    main.append(cards);

    const sizes = {};
    clusters.forEach((c) => { sizes[c.members.length] = (sizes[c.members.length] || 0) + 1; });
    const sizeKeys = Object.keys(sizes).map(Number).sort((a, b) => a - b);
    const sizeChart = barChart(sizeKeys.map((k) => ({ label: String(k), parts: [{ value: sizes[k], color: "#1982c4" }] })),
      { label: "cluster sizes", axis: "documents per cluster" });
    const scoreBins = [];
    for (let i = 0; i < 20; i++) scoreBins.push({ label: (i / 20).toFixed(2).replace(/^0/, ""), parts: RELATIONS.map((r) => ({ value: 0, color: COLOR[r], name: LABEL[r] })) });
    pairs.forEach((p) => { scoreBins[Math.min(19, Math.floor(p.jaccard * 20))].parts[RELATIONS.indexOf(p.relation)].value += 1; });
    scoreBins.forEach((b, i) => { b.onclick = () => go("pairs?min=" + (i / 20)); });
    main.append(el("div", { class: "grid2" },
      el("div", { class: "panel" }, el("h2", {}, "Cluster sizes"), sizeChart),
      el("div", { class: "panel" }, el("h2", {}, "Similarity of pairs (Jaccard of 5-word shingles)"), barChart(scoreBins, { label: "scores", axis: "Jaccard", every: 4 }), legend())));

    const top = clusters.slice().sort((a, b) => b.members.length - a.members.length).slice(0, 10);
    const containers = {};
    pairs.forEach((p) => { if (p.relation === "contained") (containers[p.b] = containers[p.b] || []).push(p); });
    const topContainers = Object.keys(containers).map(Number).sort((a, b) => containers[b].length - containers[a].length).slice(0, 10);
    main.append(el("div", { class: "grid2" },
      el("div", { class: "panel" }, el("h2", {}, "Largest clusters"), top.length ? el("table", {},
        el("tr", {}, el("th", {}, "size"), el("th", {}, "likely original")),
        top.map((c) => el("tr", { class: "row", onclick: () => go("cluster/" + encodeURIComponent(c.id)) }, el("td", { class: "num" }, c.members.length), el("td", {}, docLink(c.original))))) : el("p", { class: "muted" }, "No clusters.")),
      el("div", { class: "panel" }, el("h2", {}, "Pages that carry the most stories"), topContainers.length ? el("table", {},
        el("tr", {}, el("th", {}, "stories"), el("th", {}, "page")),
        topContainers.map((d) => el("tr", { class: "row", onclick: () => go("pairs?q=" + encodeURIComponent(docs[d].id) + "&rel=contained") }, el("td", { class: "num" }, containers[d].length), el("td", {}, docLink(d))))) : el("p", { class: "muted" }, "No contained pairs."))));
  }

  // ---------- pair list ----------
  function showPairs(params) {
    const q = el("input", { type: "search", placeholder: "document id contains…", value: params.get("q") || "" });
    const rel = el("select", {}, el("option", { value: "" }, "all relations"), RELATIONS.map((r) => el("option", { value: r }, LABEL[r])));
    rel.value = params.get("rel") || "";
    const min = el("input", { type: "range", min: 0, max: 1, step: 0.01, value: params.get("min") || 0 });
    const minLabel = el("span", { class: "muted" });
    const sort = el("select", {}, el("option", { value: "jaccard" }, "by Jaccard"), el("option", { value: "ca" }, "by containment"), el("option", { value: "input" }, "in scan order"));
    sort.value = params.get("sort") || "jaccard";
    const count = el("span", { class: "muted" });
    const body = el("tbody", {});
    const more = el("button", { class: "more" }, "Show more");
    let rows = [], shown = 0;
    function apply() {
      const needle = q.value.toLowerCase(), r = rel.value, m = Number(min.value);
      minLabel.textContent = "Jaccard ≥ " + m.toFixed(2);
      rows = pairs.filter((p) => (!r || p.relation === r) && p.jaccard >= m &&
        (!needle || docs[p.a].id.toLowerCase().includes(needle) || docs[p.b].id.toLowerCase().includes(needle)));
      if (sort.value === "jaccard") rows.sort((x, y) => y.jaccard - x.jaccard || x.index - y.index);
      else if (sort.value === "ca") rows.sort((x, y) => y.ca - x.ca || x.index - y.index);
      count.textContent = rows.length + " pairs";
      body.replaceChildren();
      shown = 0;
      page();
      history.replaceState(null, "", "#pairs?" + new URLSearchParams({ q: q.value, rel: r, min: m, sort: sort.value }));
    }
    function page() {
      const end = Math.min(rows.length, shown + PAGE);
      for (; shown < end; shown++) {
        const p = rows[shown];
        body.append(el("tr", { class: "row", "data-pair": p.index, onclick: () => go("pair/" + p.index) },
          el("td", {}, badge(p.relation)), el("td", {}, docLink(p.a)), el("td", {}, docLink(p.b)),
          el("td", { class: "num" }, fmt(p.jaccard)), el("td", { class: "num" }, fmt(p.ca)), el("td", { class: "num" }, pct(p.aligned))));
      }
      more.style.display = shown < rows.length ? "" : "none";
    }
    [q, rel, min, sort].forEach((c) => c.addEventListener("input", apply));
    more.addEventListener("click", page);
    main.append(el("h2", {}, "Pairs"), el("div", { class: "filters" }, q, rel, min, minLabel, sort, count),
      el("table", { id: "pair-list" }, el("thead", {}, el("tr", {}, el("th", {}, "relation"), el("th", {}, "a"), el("th", {}, "b"),
        el("th", {}, "Jaccard"), el("th", {}, "a in b"), el("th", {}, "words aligned"))), body), more);
    apply();
  }

  // ---------- pair view ----------
  // Renders text t with boilerplate ranges bp, blocks [[s,e,id]] and changes
  // [[s,e,note]] (note: the other side's words, shown above on side b).
  function renderText(t, bp, blocks, changes, side) {
    const cuts = new Set([0, t.length]);
    [bp, blocks, changes].forEach((list) => list.forEach((r) => { cuts.add(r[0]); cuts.add(r[1]); }));
    const points = Array.from(cuts).filter((x) => x >= 0 && x <= t.length).sort((a, b) => a - b);
    const inRange = (list, s, e) => list.find((r) => r[0] <= s && e <= r[1] && r[0] < r[1]);
    const out = el("div", { class: "text", id: "text-" + side });
    for (let i = 0; i + 1 < points.length; i++) {
      const s = points[i], e = points[i + 1];
      const piece = t.slice(s, e);
      const blk = inRange(blocks, s, e), chg = inRange(changes, s, e);
      const cls = [];
      if (inRange(bp, s, e)) cls.push("bp");
      if (blk) cls.push("blk");
      if (chg) cls.push(side === "a" ? "chg-a" : "chg");
      let node = cls.length ? el("span", { class: cls.join(" "), "data-block": blk ? blk[2] : null }, piece) : document.createTextNode(piece);
      // The other side's words: above the word on side b (a CSS label
      // from the attribute, so it takes no room in the line), in the
      // tooltip on side a.
      if (chg && side === "b" && chg[0] === s) {
        node.setAttribute("data-was", chg[2] || "(added)");
        node.setAttribute("title", chg[2] ? "was: " + chg[2] : "added");
      } else if (chg && side === "a" && chg[0] === s) {
        node.setAttribute("title", chg[2] ? "→ " + chg[2] : "dropped");
      }
      if (blk) node.addEventListener("click", () => jump(side === "a" ? "b" : "a", blk[2]));
      out.append(node);
    }
    return out;
  }
  function jump(side, id) {
    const pane = document.getElementById("text-" + side);
    const target = pane && pane.querySelector(`[data-block="${id}"]`);
    if (!target) return;
    pane.querySelectorAll(".flash").forEach((n) => n.classList.remove("flash"));
    pane.querySelectorAll(`[data-block="${id}"]`).forEach((n) => n.classList.add("flash"));
    pane.scrollTop = target.offsetTop - pane.offsetTop - pane.clientHeight / 3;
  }
  function showPair(i) {
    const p = pairs[i];
    if (!p) { main.append(el("p", {}, "No such pair.")); return; }
    const A = docs[p.a], B = docs[p.b];
    main.append(el("p", {}, el("a", { href: "#pairs" }, "← all pairs"),
      p.cluster ? [" · ", el("a", { href: "#cluster/" + encodeURIComponent(p.cluster) }, "cluster " + p.cluster)] : null));
    main.append(el("h2", { id: "pair-title" }, badge(p.relation), " ", docLink(p.a), " ↔ ", docLink(p.b)));
    main.append(el("p", { class: "sentence", id: "pair-sentence" }, p.sentence));
    main.append(el("p", { class: "scores" }, el("span", {}, "Jaccard " + fmt(p.jaccard)),
      el("span", {}, "a in b " + fmt(p.ca)), el("span", {}, "b in a " + fmt(p.cb)),
      el("span", {}, pct(p.aligned) + " of a's words aligned"), el("span", { class: "muted" }, "click a highlighted passage to find it on the other side")));
    if (p.subs.length)
      main.append(el("div", { class: "subs" }, el("b", {}, "Substitutions: "), p.subs.map(([f, t, n]) => el("span", {}, `${f} → ${t}` + (n > 1 ? ` ×${n}` : "")))));
    const blocksA = p.blocks.map((b, k) => [b[0], b[1], k]), blocksB = p.blocks.map((b, k) => [b[2], b[3], k]);
    const ta = A.text || "", tb = B.text || "";
    const chA = p.changes.map((c) => [c[0], c[1], tb.slice(c[2], c[3])]);
    const chB = p.changes.map((c) => [c[2], c[3], ta.slice(c[0], c[1])]);
    const side = (d, s, blocks, ch) => el("div", { class: "side" }, el("h3", {}, s + ": ", docLink(d)),
      docs[d].text === null ? el("p", { class: "muted text" }, "The text of this document was not found in the inputs given to the report.")
        : renderText(docs[d].text, docs[d].bp, blocks, ch, s));
    main.append(el("div", { class: "sides" }, side(p.a, "a", blocksA, chA), side(p.b, "b", blocksB, chB)));
  }

  // ---------- clusters ----------
  function showClusters() {
    main.append(el("h2", {}, "Clusters"));
    if (!clusters.length) { main.append(el("p", { class: "muted" }, "No clusters.")); return; }
    const sorted = clusters.slice().sort((a, b) => b.members.length - a.members.length);
    const body = el("tbody", {});
    const more = el("button", { class: "more" }, "Show more");
    let shown = 0;
    function page() {
      const end = Math.min(sorted.length, shown + PAGE);
      for (; shown < end; shown++) {
        const c = sorted[shown];
        body.append(el("tr", { class: "row", onclick: () => go("cluster/" + encodeURIComponent(c.id)) }, el("td", { class: "id" }, c.id),
          el("td", { class: "num" }, c.members.length), el("td", {}, docLink(c.original)), el("td", { class: "num" }, c.carried_by.length)));
      }
      more.style.display = shown < sorted.length ? "" : "none";
    }
    more.addEventListener("click", page);
    main.append(el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "cluster"), el("th", {}, "size"), el("th", {}, "likely original"), el("th", {}, "carried by"))), body), more);
    page();
  }
  function pairBetween(x, y) {
    return pairs.find((p) => (p.a === x && p.b === y) || (p.a === y && p.b === x));
  }
  function showCluster(id) {
    const c = clusters.find((k) => k.id === id);
    if (!c) { main.append(el("p", {}, "No such cluster.")); return; }
    main.append(el("p", {}, el("a", { href: "#clusters" }, "← all clusters")));
    main.append(el("h2", {}, `Cluster ${c.id} · ${c.members.length} documents`));
    main.append(el("p", {}, "Likely original: ", docLink(c.original), c.reason ? el("span", { class: "muted" }, ` (${c.reason.replace(/_/g, " ")})`) : null));
    const rows = c.members.map((m) => {
      if (m === c.original) return el("tr", {}, el("td", {}, docLink(m)), el("td", {}, el("b", {}, "original")), el("td", {}), el("td", {}));
      const direct = pairBetween(m, c.original);
      const linked = direct || pairs.filter((p) => p.cluster === c.id && (p.a === m || p.b === m)).sort((x, y) => y.jaccard - x.jaccard)[0];
      if (!linked) return el("tr", {}, el("td", {}, docLink(m)), el("td", { class: "muted" }, "not in the pairs shown"), el("td", {}), el("td", {}));
      const other = linked.a === m ? linked.b : linked.a;
      return el("tr", { class: "row", onclick: () => go("pair/" + linked.index) }, el("td", {}, docLink(m)), el("td", {}, badge(linked.relation)),
        el("td", { class: "num" }, fmt(linked.jaccard)), el("td", {}, direct ? "with the original" : ["via ", docLink(other)]));
    });
    main.append(el("table", {}, el("tr", {}, el("th", {}, "member"), el("th", {}, "relation"), el("th", {}, "Jaccard"), el("th", {}, "to")), rows));
    if (c.carried_by.length) {
      main.append(el("h2", {}, "Pages that carry this story"));
      main.append(el("table", {}, c.carried_by.map((d) => {
        const p = pairs.find((q) => q.relation === "contained" && q.b === d && c.members.includes(q.a));
        return el("tr", { class: p ? "row" : null, onclick: p ? () => go("pair/" + p.index) : null }, el("td", {}, docLink(d)),
          el("td", { class: "num" }, p ? pct(p.ca) + " of the story" : ""));
      })));
    }
  }

  route();
})();
