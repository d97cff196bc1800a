// GET one URL with Node's own https module and print the body; on failure print the error's code and exit 1.
// The trust comes from the environment only (NODE_EXTRA_CA_CERTS): no library, no sandbox-specific code.

import https from "node:https";

https
  .get(process.argv[2], { timeout: 10000 }, (response) => {
    let body = "";
    response.setEncoding("utf8");
    response.on("data", (chunk) => (body += chunk));
    response.on("end", () => console.log(body));
  })
  .on("error", (error) => {
    console.error(error.code || error.message);
    process.exit(1);
  });
