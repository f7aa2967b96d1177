//! The OpenAPI 3.1 document (generated from the handlers' annotations) and a small docs page
//! that lists every operation from it, with no external scripts.

use axum::response::Html;

/// The docs page: fetches `/api/v1/openapi.json` and lists the operations.
pub(crate) async fn page() -> Html<&'static str> {
    Html(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>chargegrid API</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}code{background:#eee;padding:0 .3rem}
li{margin:.3rem 0}.m{display:inline-block;width:4.5rem;font-weight:bold}</style></head>
<body><h1>chargegrid driver &amp; fleet API</h1>
<p>Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).
Errors are <code>application/problem+json</code>.</p><ul id="ops"></ul>
<script>
fetch('/api/v1/openapi.json').then(r=>r.json()).then(doc=>{
  const ul=document.getElementById('ops');
  for(const [path,item] of Object.entries(doc.paths)){
    for(const [method,op] of Object.entries(item)){
      const li=document.createElement('li');
      li.innerHTML='<span class="m">'+method.toUpperCase()+'</span><code>'+path+'</code> '+(op.summary||'');
      ul.appendChild(li);
    }
  }
});
</script></body></html>"#,
    )
}
