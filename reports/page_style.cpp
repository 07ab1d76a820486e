#include "reports/page_style.h"

namespace cxr::report {

const char* const kPageStyle = R"css(
:root{--ink:#1d2430;--muted:#5b6577;--line:#dfe3ea;--panel:#f6f8fb;--accent:#0b4f8a;--warn:#b3261e;--ok:#1b7a3d}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);
  margin:0;background:#fff}
main{max-width:1320px;margin:0 auto;padding:28px 32px 40px}
header{border-bottom:3px solid var(--accent);padding-bottom:12px;margin-bottom:8px}
h1{font-size:24px;margin:0 0 4px;font-weight:650;letter-spacing:-.01em}
h2{font-size:18px;margin:34px 0 6px;padding-bottom:4px;border-bottom:1px solid var(--line);font-weight:620}
h3{font-size:15px;margin:18px 0 6px;font-weight:600}
h3 .chip{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:7px;vertical-align:-1px}
p{margin:6px 0}.lead{color:var(--muted);max-width:940px}.note{color:var(--muted);font-size:13px}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:18px 26px;align-items:start}
.valpair{display:grid;grid-template-columns:minmax(0,4fr) minmax(0,8fr);gap:14px 26px;align-items:start}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:14px 22px;align-items:start}
figure{margin:0;break-inside:avoid;page-break-inside:avoid}
figcaption{color:var(--muted);font-size:12.5px;margin:2px 4px 0}
svg.chart{width:100%;height:auto;display:block;font-family:inherit}
.chart .title{font-size:14px;font-weight:600;fill:var(--ink)}
.chart .axis{font-size:11.5px;fill:#3d4656}
.chart .tick{font-size:10.5px;fill:#4a5364}
.chart .legend{font-size:11px;fill:var(--ink)}
.chart .value{font-size:9.5px;fill:#1d2430}
.chart .cell{font-size:9.5px;fill:#fff}
.chart .plot{fill:#fbfcfd;stroke:#c9ced8}
.chart .grid{stroke:#e8ebf0}
.chart .axisline{stroke:#8a93a3}
.chart .mark{stroke:#c9ced8;stroke-dasharray:2 3}
.chart .chance{stroke:#9aa3b2;stroke-dasharray:4 4}
.chart .barframe{fill:none;stroke:#8a93a3}
.story{background:var(--panel);border-left:4px solid var(--accent);padding:10px 14px 10px 30px;margin:12px 0;max-width:1100px}
.story li{margin:3px 0}
table{border-collapse:collapse;font-size:12.5px;margin:8px 0;font-variant-numeric:tabular-nums}
.valpair caption{white-space:normal}
caption{text-align:left;color:var(--muted);font-size:12px;padding:2px 0 4px;caption-side:top}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:right;white-space:nowrap}
table.text td{text-align:left}
thead th{background:var(--panel);font-weight:600}
tbody th{text-align:left;font-weight:600;background:#fcfcfd}
table.confusion td{min-width:64px;text-align:center;font-weight:600}
table.confusion td.diag{background:color-mix(in srgb,#0072B2 var(--share),#fff)}
table.confusion td.off{background:color-mix(in srgb,#D55E00 var(--share),#fff)}
details{margin:4px 0 10px}summary{cursor:pointer;color:var(--accent);font-size:12.5px}
details table{margin-top:4px}
.health{list-style:none;padding:0;margin:6px 0}
.health li{padding:4px 10px;margin:3px 0;border-radius:4px}
.health .warn{background:#fdecea;color:var(--warn)}.health .info{background:var(--panel)}
.health .ok{background:#e9f6ee;color:var(--ok)}
pre{background:var(--panel);border:1px solid var(--line);padding:10px 12px;font-size:12px;line-height:1.4;
  overflow:auto;max-height:520px;white-space:pre-wrap;word-break:break-word}
footer{margin-top:36px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding-top:8px}
@media print{
  main{max-width:none;padding:0}
  .grid,.pair{grid-template-columns:1fr}
  h2{break-after:avoid}
  details:not([open]){display:none}
  pre{max-height:none}
}
)css";

}  // namespace cxr::report
