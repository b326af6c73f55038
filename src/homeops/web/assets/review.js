// The review page: builds the tree, summary and diff panes from the embedded DiffResult data.
// Keys: j/k next/previous resource, / filter, Esc leave the filter, t theme, Enter open the first match.
(function () {
  "use strict";
  var CONTEXT = 3;          // unchanged lines kept around a change before folding
  var MAX_TOKENS = 400;     // longer lines are not diffed word by word
  var data = JSON.parse(document.getElementById("review-data").textContent);
  var changes = data.changes;
  var selected = null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) { return; }
        if (k === "text") { node.textContent = v; }
        else if (k === "cls") { node.className = v; }
        else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), v); }
        else { node.setAttribute(k, v === true ? "" : String(v)); }
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) { return; }
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function label(o) { return [o.cluster, o.kind, o.namespace, o.name].filter(Boolean).join("/"); }
  function objectText(o) { return o.kind + " " + (o.namespace ? o.namespace + "/" : "") + o.name; }
  var SIGN = { added: "+", removed: "−", modified: "~" };
  var byLabel = {};
  changes.forEach(function (c) { if (!(label(c) in byLabel)) { byLabel[label(c)] = c; } });

  // ---------------------------------------------------------------------------------- tree
  function groupBy(items, key) {
    var order = [], groups = {};
    items.forEach(function (it) {
      var k = key(it);
      if (!(k in groups)) { groups[k] = []; order.push(k); }
      groups[k].push(it);
    });
    return order.sort().map(function (k) { return [k, groups[k]]; });
  }
  function group(cls, title, count, children, extra) {
    var summary = el("summary", { title: title }, [title + " ", el("span", { cls: "count", text: "(" + count + ")" })]);
    var attrs = { cls: "group " + cls, open: true };
    Object.keys(extra || {}).forEach(function (k) { attrs[k] = extra[k]; });
    return el("li", {}, [el("details", attrs, [summary, el("ul", {}, children)])]);
  }
  function leaf(c) {
    var flags = c.signals.length ? el("span", { cls: "flag sev-" + c.worst, title: c.signals.length + " signal(s)", text: "●" }) : null;
    var a = el("a", {
      cls: "res", href: "#c=" + c.id, id: "res-" + c.id, "data-id": c.id, "data-cluster": c.cluster,
      "data-kind": c.kind, "data-namespace": c.namespace, "data-name": c.name, "data-change": c.change,
      "data-ks": c.ks, "data-helmrelease": c.helmrelease || "", title: label(c) + " (" + c.change + ")",
      onclick: function (ev) { ev.preventDefault(); select(c.id, true); }
    }, [el("span", { cls: "sign ch-" + c.change, text: SIGN[c.change] }),
      el("span", { cls: "nm" }, [c.namespace ? el("span", { cls: "muted", text: c.namespace + "/" }) : null, c.name]), flags]);
    var li = el("li", { cls: "leaf" }, [a]);
    li.dataset.search = [c.cluster, c.kind, c.namespace, c.name, c.ks, c.helmrelease || "", c.change,
      c.namespace + "/" + c.name].join(" ").toLowerCase();
    return li;
  }
  function kinds(items) {
    return groupBy(items, function (c) { return c.kind; }).map(function (g) {
      var leaves = g[1].slice().sort(function (a, b) { return (a.namespace + "/" + a.name).localeCompare(b.namespace + "/" + b.name); });
      return group("group-kind", g[0], g[1].length, leaves.map(leaf));
    });
  }
  function buildTree() {
    var clusters = groupBy(changes, function (c) { return c.cluster; }).map(function (cg) {
      var kss = groupBy(cg[1], function (c) { return c.ks; }).map(function (kg) {
        var direct = kg[1].filter(function (c) { return !c.helmrelease || c.kind === "HelmRelease"; });
        var viaHr = groupBy(kg[1].filter(function (c) { return c.helmrelease && c.kind !== "HelmRelease"; }),
          function (c) { return c.helmrelease; });
        var children = viaHr.map(function (hg) {
          return group("group-hr", hg[0], hg[1].length, kinds(hg[1]), { "data-helmrelease": hg[0] });
        }).concat(kinds(direct));
        return group("group-ks", kg[0], kg[1].length, children, { "data-ks": kg[0] });
      });
      return group("group-cluster", cg[0], cg[1].length, kss, { "data-cluster": cg[0] });
    });
    var tree = document.getElementById("tree");
    tree.textContent = "";
    if (!changes.length) { tree.appendChild(el("p", { cls: "muted", text: "No rendered changes." })); return; }
    tree.appendChild(el("ul", {}, clusters));
  }
  function visibleLeaves() {
    return Array.prototype.filter.call(document.querySelectorAll("#tree li.leaf"), function (li) {
      return !li.classList.contains("hidden");
    }).map(function (li) { return li.querySelector("a.res"); });
  }
  function applyFilter() {
    var words = document.getElementById("filter").value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    document.querySelectorAll("#tree li.leaf").forEach(function (li) {
      var ok = words.every(function (w) { return li.dataset.search.indexOf(w) >= 0; });
      li.classList.toggle("hidden", !ok);
      if (ok) { shown += 1; }
    });
    var groups = Array.prototype.slice.call(document.querySelectorAll("#tree details.group")).reverse();
    groups.forEach(function (d) {
      var any = d.querySelector("li.leaf:not(.hidden)") !== null;
      d.parentNode.classList.toggle("hidden", !any);
      if (any && words.length) { d.open = true; }
    });
    document.getElementById("filter-count").textContent = words.length ? shown + " of " + changes.length : changes.length + " changed";
  }

  // ---------------------------------------------------------------------------------- word diff
  function tokens(text) { return text.match(/\s+|[A-Za-z0-9_]+|[^\sA-Za-z0-9_]/g) || []; }
  function wordDiff(a, b) {
    var x = tokens(a), y = tokens(b);
    if (x.length > MAX_TOKENS || y.length > MAX_TOKENS) { return null; }
    var n = x.length, m = y.length, i, j, table = [];
    for (i = 0; i <= n; i++) { table.push(new Array(m + 1).fill(0)); }
    for (i = n - 1; i >= 0; i--) {
      for (j = m - 1; j >= 0; j--) {
        table[i][j] = x[i] === y[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
      }
    }
    var left = [], right = [];
    i = 0; j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && x[i] === y[j]) { left.push([x[i], false]); right.push([y[j], false]); i++; j++; }
      else if (j < m && (i === n || table[i][j + 1] >= table[i + 1][j])) { right.push([y[j], true]); j++; }
      else { left.push([x[i], true]); i++; }
    }
    return [left, right];
  }
  // a removed line is compared word by word with the added line of the same YAML key (indent and key),
  // else with the added line at the same position when neither has a key of its own
  function keyOf(text) { var m = /^(\s*-?\s*[^:\s][^:]*):/.exec(text); return m ? m[1] : null; }
  function pairUp(dels, adds) {
    var used = {}, out = [];
    dels.forEach(function (d, i) {
      var key = keyOf(d.text), match = -1;
      if (key !== null) {
        for (var j = 0; j < adds.length; j++) { if (!used[j] && keyOf(adds[j].text) === key) { match = j; break; } }
      } else if (i < adds.length && !used[i] && keyOf(adds[i].text) === null) { match = i; }
      if (match >= 0) { used[match] = true; out.push([i, match]); }
    });
    return out;
  }
  function spans(parts, cls) {
    var out = [], run = "", marked = false;
    function flush() {
      if (!run) { return; }
      out.push(marked ? el("span", { cls: cls, text: run }) : document.createTextNode(run));
      run = "";
    }
    parts.forEach(function (p) { if (p[1] !== marked) { flush(); marked = p[1]; } run += p[0]; });
    flush();
    return out;
  }

  // ---------------------------------------------------------------------------------- diff pane
  function numbered(rows) {
    var old = 0, now = 0;
    return rows.map(function (r) {
      var op = r[0];
      if (op === " ") { old++; now++; return { op: op, text: r[1], old: old, now: now }; }
      if (op === "-") { old++; return { op: op, text: r[1], old: old, now: null }; }
      now++; return { op: op, text: r[1], old: null, now: now };
    });
  }
  function lineRow(r, content) {
    var cls = r.op === "+" ? "add" : r.op === "-" ? "del" : "ctx";
    var text = el("td", { cls: "tx" }, content || [r.text]);
    return el("tr", { cls: cls }, [el("td", { cls: "ln", text: r.old || "" }), el("td", { cls: "ln", text: r.now || "" }),
      el("td", { cls: "sg", text: r.op === " " ? "" : r.op }), text]);
  }
  function foldRow(hidden, body) {
    var tr = el("tr", { cls: "fold", title: "show the unchanged lines" }, [
      el("td", { colspan: 4, text: "⋯ " + hidden.length + " unchanged line" + (hidden.length === 1 ? "" : "s") })]);
    tr.addEventListener("click", function () {
      var after = tr.nextSibling;
      hidden.forEach(function (r) { body.insertBefore(lineRow(r), after); });
      tr.parentNode.removeChild(tr);
    });
    return tr;
  }
  function renderRows(rows, body) {
    var i = 0, n = rows.length;
    while (i < n) {
      if (rows[i].op === " ") {
        var j = i; while (j < n && rows[j].op === " ") { j++; }
        var run = rows.slice(i, j), keepHead = i === 0 ? 0 : CONTEXT, keepTail = j === n ? 0 : CONTEXT;
        if (run.length > keepHead + keepTail + 1) {
          run.slice(0, keepHead).forEach(function (r) { body.appendChild(lineRow(r)); });
          body.appendChild(foldRow(run.slice(keepHead, run.length - keepTail), body));
          run.slice(run.length - keepTail).forEach(function (r) { body.appendChild(lineRow(r)); });
        } else {
          run.forEach(function (r) { body.appendChild(lineRow(r)); });
        }
        i = j;
        continue;
      }
      var k = i; while (k < n && rows[k].op === "-") { k++; }
      var m = k; while (m < n && rows[m].op === "+") { m++; }
      var dels = rows.slice(i, k), adds = rows.slice(k, m);
      var delWords = [], addWords = [];
      pairUp(dels, adds).forEach(function (pair) {
        var w = wordDiff(dels[pair[0]].text, adds[pair[1]].text);
        if (w) { delWords[pair[0]] = w[0]; addWords[pair[1]] = w[1]; }
      });
      dels.forEach(function (r, idx) { body.appendChild(lineRow(r, delWords[idx] ? spans(delWords[idx], "wd") : null)); });
      adds.forEach(function (r, idx) { body.appendChild(lineRow(r, addWords[idx] ? spans(addWords[idx], "wa") : null)); });
      i = m > i ? m : i + 1;
    }
  }
  function signalItem(d) {
    var target = byLabel[d.object];
    var obj = target ? el("a", { href: "#c=" + target.id, cls: "obj", text: d.object,
      onclick: function (ev) { ev.preventDefault(); select(target.id, true); } }) : el("span", { cls: "obj", text: d.object });
    return el("li", { cls: "signal", "data-type": d.type, "data-severity": d.severity, "data-object": d.object }, [
      el("span", { cls: "badge sev-" + d.severity, text: d.type }), " ", obj,
      el("div", { cls: "what", text: d.message })]);
  }
  function renderDiff(c) {
    var pane = document.getElementById("diff-pane");
    pane.textContent = "";
    var meta = [el("span", { cls: "ch-" + c.change, text: c.change }), el("span", { text: "cluster " + c.cluster }),
      el("span", { text: "ks " + c.ks })];
    if (c.helmrelease && c.kind !== "HelmRelease") { meta.push(el("span", { text: "hr " + c.helmrelease })); }
    if (c.source) {
      meta.push(c.link ? el("a", { id: "source-link", href: c.link, title: "open the file", text: c.source })
        : el("span", { id: "source-link", text: c.source }));
    }
    var head = el("div", { id: "diff-head", "data-id": c.id }, [el("h2", { text: objectText(c) }), el("div", { cls: "meta" }, meta)]);
    var own = data.dangers.filter(function (d) { return d.object === label(c); });
    if (own.length) { head.appendChild(el("ul", { cls: "plain object-signals" }, own.map(signalItem))); }
    var causes = data.blast_radius.files.filter(function (b) { return b.objects.indexOf(label(c)) >= 0; });
    if (causes.length) {
      head.appendChild(el("div", { cls: "meta causes" }, ["changed by "].concat(causes.map(function (b) {
        return el("code", { text: b.file + " (" + b.count + " object" + (b.count === 1 ? "" : "s") + ")" });
      }))));
    }
    pane.appendChild(head);
    var body = el("tbody");
    renderRows(numbered(c.rows), body);
    var cols = el("colgroup", {}, [el("col", { cls: "c-ln" }), el("col", { cls: "c-ln" }), el("col", { cls: "c-sg" }), el("col", {})]);
    pane.appendChild(el("table", { cls: "diff", id: "diff-table" }, [cols, body]));
  }
  function select(id, push) {
    var c = changes[id];
    if (!c) { return; }
    if (selected !== null) {
      var prev = document.getElementById("res-" + selected);
      if (prev) { prev.classList.remove("selected"); }
    }
    selected = id;
    var a = document.getElementById("res-" + id);
    if (a) {
      a.classList.add("selected");
      var d = a.parentNode;
      while (d && d.id !== "tree") { if (d.tagName === "DETAILS") { d.open = true; } d = d.parentNode; }
      a.scrollIntoView({ block: "nearest" });
    }
    renderDiff(c);
    document.getElementById("diff-pane").scrollTop = 0;
    if (push && window.history && window.history.replaceState) { window.history.replaceState(null, "", "#c=" + id); }
  }
  function move(step) {
    var leaves = visibleLeaves();
    if (!leaves.length) { return; }
    var at = -1;
    leaves.forEach(function (a, i) { if (Number(a.dataset.id) === selected) { at = i; } });
    var next = at < 0 ? (step > 0 ? 0 : leaves.length - 1) : Math.max(0, Math.min(leaves.length - 1, at + step));
    select(Number(leaves[next].dataset.id), true);
  }

  // ---------------------------------------------------------------------------------- summary pane
  function card(id, title, body) {
    return el("section", { cls: "card", id: id }, [el("h3", { text: title }), el("div", { cls: "body" }, body)]);
  }
  function where(f) { return f.file ? f.file + (f.line ? ":" + f.line : "") : ""; }
  function renderSummary() {
    var pane = document.getElementById("summary-pane");
    var n = { added: 0, removed: 0, modified: 0 };
    changes.forEach(function (c) { n[c.change] += 1; });
    var clusters = {}; changes.forEach(function (c) { clusters[c.cluster] = true; });
    var counts = el("div", { cls: "counts", id: "counts", "data-added": n.added, "data-removed": n.removed, "data-modified": n.modified }, [
      el("span", {}, [el("b", { text: String(changes.length) }), " changed"]),
      el("span", { cls: "ch-added" }, [el("b", { text: String(n.added) }), " added"]),
      el("span", { cls: "ch-removed" }, [el("b", { text: String(n.removed) }), " removed"]),
      el("span", { cls: "ch-modified" }, [el("b", { text: String(n.modified) }), " modified"]),
      el("span", { cls: "muted", text: Object.keys(clusters).length + " cluster(s)" })]);
    pane.appendChild(card("overview", "Overview", [counts,
      el("table", { cls: "grid", id: "kinds" }, [el("thead", {}, [el("tr", {}, ["cluster", "kind", "+", "−", "~"].map(function (h) { return el("th", { text: h }); }))]),
        el("tbody", {}, data.summary.map(function (r) {
          return el("tr", {}, [el("td", { text: r.cluster }), el("td", { text: r.kind }), el("td", { cls: "num", text: String(r.added) }),
            el("td", { cls: "num", text: String(r.removed) }), el("td", { cls: "num", text: String(r.modified) })]);
        }))])]));
    pane.appendChild(card("signals", "Danger and review signals (" + data.dangers.length + ")",
      data.dangers.length ? [el("ul", { cls: "plain" }, data.dangers.map(signalItem))] : [el("span", { cls: "ok", text: "none" })]));
    var blast = data.blast_radius.files;
    pane.appendChild(card("blast", "Blast radius (" + blast.length + " changed file" + (blast.length === 1 ? "" : "s") + ")",
      blast.length ? [el("table", { cls: "grid" }, [el("thead", {}, [el("tr", {}, [el("th", { text: "file" }), el("th", { text: "lines" }), el("th", { cls: "num", text: "objects" })])]),
        el("tbody", {}, blast.map(function (b) {
          var list = el("details", {}, [el("summary", { text: b.count + (b.clusters.length ? " in " + b.clusters.join(", ") : "") }),
            el("ul", { cls: "plain" }, b.objects.map(function (o) {
              var t = byLabel[o];
              return el("li", {}, [t ? el("a", { href: "#c=" + t.id, cls: "obj", text: o, onclick: function (ev) { ev.preventDefault(); select(t.id, true); } }) : el("span", { cls: "obj", text: o })]);
            }))]);
          return el("tr", { cls: "blast", "data-file": b.file, "data-count": b.count }, [el("td", {}, [el("code", { text: b.file })]),
            el("td", { cls: "mono", text: b.added === null ? "binary" : "+" + b.added + " −" + b.removed }),
            el("td", { cls: "num" }, [b.count ? list : el("span", { cls: "muted", text: "0" })])]);
        }))])].concat(data.blast_radius.unattributed.length ? [el("p", { cls: "muted", id: "unattributed",
          text: data.blast_radius.unattributed.length + " change(s) no changed file explains: " + data.blast_radius.unattributed.join(", ") })] : [])
        : [el("span", { cls: "muted", text: "no changed files" })]));
    pane.appendChild(card("images", "Images (" + data.images.length + ")", data.images.length ? [el("table", { cls: "grid" }, [
      el("thead", {}, [el("tr", {}, ["image", "from → to", "registry"].map(function (h) { return el("th", { text: h }); }))]),
      el("tbody", {}, data.images.map(function (img) {
        var v = img.verify, status = v ? v.status : "";
        var badge = v ? el("span", { cls: "badge " + (status === "verified" ? "ok" : status === "missing" ? "sev-error" : "sev-warning"),
          title: v.message || v.digest || "", text: status }) : el("span", { cls: "muted", text: img.to ? "not checked" : "—" });
        return el("tr", { cls: "image", "data-image": img.image, "data-from": img.from || "", "data-to": img.to || "", "data-status": status }, [
          el("td", {}, [el("code", { text: img.image }), el("div", { cls: "muted", text: img.workloads.join(", ") })]),
          el("td", { cls: "mono", text: (img.from || "—") + " → " + (img.to || "—") }), el("td", {}, [badge])]);
      }))])] : [el("span", { cls: "muted", text: "no image changes" })]));
    var errors = data.render_errors;
    pane.appendChild(card("render-errors", "Render failures (" + (errors.length + data.notes.length) + ")", errors.length || data.notes.length ? [
      el("ul", { cls: "plain" }, errors.map(function (f) {
        return el("li", { cls: "render-error", "data-side": f.side, "data-rule": f.rule }, [el("span", { cls: "badge sev-error", text: f.side + " only" }), " ",
          el("code", { text: where(f) }), el("div", { cls: "what", text: (f.cluster ? f.cluster + ": " : "") + f.message + " [" + f.rule + "]" })]);
      }).concat(data.notes.map(function (t) { return el("li", { cls: "note" }, [el("span", { cls: "what", text: t })]); })))]
      : [el("span", { cls: "ok", text: "none" })]));
    var findings = data.findings;
    var findingBody;
    if (!findings) { findingBody = [el("span", { cls: "muted", text: "the rules were not run (diff --findings)" })]; }
    else {
      var rows = findings.introduced.map(function (f) { return ["introduced", f]; }).concat(findings.fixed.map(function (f) { return ["fixed", f]; }));
      findingBody = rows.length ? [el("ul", { cls: "plain" }, rows.map(function (r) {
        var f = r[1];
        return el("li", { cls: "finding", "data-state": r[0], "data-rule": f.rule }, [
          el("span", { cls: "badge " + (r[0] === "fixed" ? "ok" : "sev-" + f.severity), text: r[0] + " " + f.rule }), " ",
          el("code", { text: where(f) }), el("div", { cls: "what", text: f.message })]);
      }))] : [el("span", { cls: "ok", text: "none introduced, none fixed" })];
    }
    pane.appendChild(card("findings", "Findings the change introduces or fixes", findingBody));
  }

  // ---------------------------------------------------------------------------------- start
  function fromHash() {
    var m = /^#c=(\d+)$/.exec(window.location.hash || "");
    return m ? Number(m[1]) : null;
  }
  function start() {
    buildTree();
    renderSummary();
    applyFilter();
    var filter = document.getElementById("filter");
    filter.addEventListener("input", applyFilter);
    filter.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { filter.blur(); ev.preventDefault(); }
      if (ev.key === "Enter") { var v = visibleLeaves(); if (v.length) { select(Number(v[0].dataset.id), true); } filter.blur(); ev.preventDefault(); }
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.target && (ev.target.tagName === "INPUT" || ev.target.tagName === "TEXTAREA") || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
      if (ev.key === "j") { move(1); ev.preventDefault(); }
      else if (ev.key === "k") { move(-1); ev.preventDefault(); }
      else if (ev.key === "/") { filter.focus(); filter.select(); ev.preventDefault(); }
      else if (ev.key === "t") { window.homeopsTheme.toggle(); }
    });
    var first = fromHash();
    if (first !== null && changes[first]) { select(first, false); }
    else if (changes.length) { move(1); }
    document.body.setAttribute("data-ready", "true");
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
