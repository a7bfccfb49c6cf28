#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm ci` through the package's prepare script).
import("../dist/src/cli/main.js")
  .then(({ main }) => main())
  .catch((error) => {
    if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist/src/cli/main.js")) {
      process.stderr.write(
        "✘ NotBuilt: pier is not built yet\nHow to fix:\n  Run `npm ci` (or `npm run build`) in the pier folder.\n",
      );
    } else {
      process.stderr.write(`✘ InternalError: ${error?.stack ?? error}\n`);
    }
    process.exitCode = 70;
  });
