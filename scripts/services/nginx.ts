// Debian nginx on loopback as the load balancer in front of several web instances (`npm run demo --
// --web N`, npm test's e2e step, the bench's --lb nginx). Its config, pid and logs live in a private
// prefix directory; it runs in the foreground as our child, so it stops with us.
import fs from "node:fs";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import which from "which";
import { StartupError, waitFor } from "./util.js";

export const NGINX_MISSING = `nginx not found: install it with "apt-get install -y nginx"`;

/** The config: round robin over the instances, keep-alive upstream connections, client IP passed on. */
export function nginxConfig(o: { port: number; upstreams: number[]; dir: string }): string {
  const servers = o.upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=0;`).join("\n");
  return `worker_processes 1;
pid ${o.dir}/nginx.pid;
error_log ${o.dir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${o.dir}/body;
  proxy_temp_path ${o.dir}/proxy;
  fastcgi_temp_path ${o.dir}/fastcgi;
  uwsgi_temp_path ${o.dir}/uwsgi;
  scgi_temp_path ${o.dir}/scgi;
  upstream web {
${servers}
    keepalive 256;
  }
  server {
    listen 127.0.0.1:${o.port} backlog=4096;
    location / {
      proxy_pass http://web;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto http;
      proxy_buffering off;
      proxy_read_timeout 60s;
    }
  }
}
`;
}

export interface Balancer {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts nginx on 127.0.0.1:`port` in front of the given loopback ports; resolves once it accepts. */
export async function startNginx(o: { port: number; upstreams: number[]; dir: string }): Promise<Balancer> {
  const bin = which.sync("nginx", { nothrow: true, path: `${process.env.PATH}:/usr/sbin:/usr/local/sbin` });
  if (!bin) throw new StartupError(NGINX_MISSING);
  fs.mkdirSync(o.dir, { recursive: true });
  const conf = path.join(o.dir, "nginx.conf");
  fs.writeFileSync(conf, nginxConfig(o));
  const child = spawn(bin, ["-p", o.dir, "-c", conf, "-g", "daemon off;"], { stdio: ["ignore", "inherit", "inherit"] });
  const url = `http://127.0.0.1:${o.port}`;
  const up = await waitFor(
    async () => child.exitCode !== null || (await fetch(`${url}/healthz`).then(() => true, () => false)),
    15_000,
    100,
  );
  if (!up || child.exitCode !== null) {
    child.kill("SIGKILL");
    throw new StartupError(`nginx did not start (see ${o.dir}/error.log)`);
  }
  return {
    url,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGQUIT"); // graceful: finishes requests in flight
      }),
  };
}
