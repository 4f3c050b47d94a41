// Draws the page's plotly figures (a JSON block written by the server) and shows upload progress.
(function () {
  "use strict";
  var block = document.getElementById("figures");
  if (block && window.Plotly) {
    var figures = JSON.parse(block.textContent);
    document.querySelectorAll("[data-fig]").forEach(function (div) {
      var fig = figures[div.getAttribute("data-fig")];
      if (fig) { Plotly.newPlot(div, fig.data, fig.layout, {responsive: true, displaylogo: false}); }
    });
  }
  var form = document.getElementById("upload-form");
  if (form && window.XMLHttpRequest && window.FormData) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var bar = document.getElementById("upload-progress"), status = document.getElementById("upload-status");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      bar.hidden = false;
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) { bar.value = 100 * e.loaded / e.total; }
        status.textContent = e.loaded < e.total ? "uploading…" : "ingesting…";
      };
      xhr.onload = function () { document.open(); document.write(xhr.responseText); document.close(); };
      xhr.onerror = function () { status.textContent = "upload failed"; };
      xhr.send(new FormData(form));
    });
  }
})();
