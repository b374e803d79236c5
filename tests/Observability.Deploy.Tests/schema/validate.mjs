// Validates every object of the YAML files given against its OpenAPI schema (kubernetes-models): one line per object,
// "FILE: KIND NAME: valid" or the schema's errors. Exit code 1 when an object is invalid or has no known schema.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

// apiVersion group -> the package that holds its models; the core group has none.
const packages = {
  "": "kubernetes-models",
  "apps": "kubernetes-models/apps",
  "policy": "kubernetes-models/policy",
  "serving.knative.dev": "@kubernetes-models/knative/serving.knative.dev",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator/monitoring.coreos.com",
};
// Not Kubernetes objects: read by kubectl's kustomize, never sent to a cluster.
const skipped = new Set(["kustomize.config.k8s.io"]);

let failed = 0;
for (const file of process.argv.slice(2)) {
  for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
    const object = document.toJS();
    const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : ["", object.apiVersion];
    if (skipped.has(group)) {
      continue;
    }

    const where = `${file}: ${object.kind} ${object.metadata?.name}`;
    const model = packages[group] === undefined ? undefined : (await import(`${packages[group]}/${version}`))[object.kind];
    if (model === undefined) {
      failed++;
      console.log(`${where}: no schema for ${object.apiVersion} ${object.kind}`);
      continue;
    }

    try {
      new model(object).validate();
      console.log(`${where}: valid`);
    } catch (error) {
      failed++;
      console.log(`${where}: ${error.message}`);
    }
  }
}

process.exit(failed === 0 ? 0 : 1);
