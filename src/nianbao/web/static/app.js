// nianbao serve: small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (form) {
    form.addEventListener("submit", function () {
      var button = document.getElementById("upload-button");
      button.disabled = true;
      button.textContent = "正在上传并校验……";
    });
  }
  var job = document.getElementById("job");
  if (job && job.dataset.state === "running") {
    var timer = setInterval(function () {
      fetch("/admin/jobs/" + job.dataset.job, {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (data) {
          document.getElementById("job-progress").textContent = data.text;
          if (data.state !== "running") { clearInterval(timer); job.dataset.state = data.state; }
        })
        .catch(function () { clearInterval(timer); });
    }, 1000);
  }
})();
