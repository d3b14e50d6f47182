/*
 * The `static` simulated runner of bench/operator.ts: the runner API's GET /ready, GET /status,
 * POST /cpu_change and GET|PUT /memory (bearer token checked against the pod's token file, except
 * /ready) for a VM of 1-4 CPUs and 1-4 memory slots of 1 GiB. A scaling call takes effect at once and
 * /status reports it, so the bench can drive the operator's scaling path with no QEMU behind it.
 * Written in C because a benchmark runs a thousand of these at once: this process needs ~100 KiB of
 * its own memory where python's http.server needed ~15 MB (15 GB for 1,000 VMs).
 *
 * Usage: static-runner <port>   (token: $NEONVM_POD_ROOT$NEONVM_RUNNER_TOKEN_FILE)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define GIB 1073741824LL
#define MAX_CPUS 4
#define MAX_SLOTS 4

static char token[256];
/* CPUs in use as the runner API writes them (upstream's MilliCPU: `2` or `"1500m"`), and in milli-CPUs. */
static char cpu_use[32] = "1";
static long cpu_milli = 1000;
static int slots = 1;

static void load_token(void) {
  const char *root = getenv("NEONVM_POD_ROOT");
  const char *file = getenv("NEONVM_RUNNER_TOKEN_FILE");
  char path[1024];
  snprintf(path, sizeof path, "%s%s", root ? root : "", file ? file : "/vm/secrets/runner-token");
  FILE *f = fopen(path, "r");
  if (!f) return;
  size_t n = fread(token, 1, sizeof token - 1, f);
  fclose(f);
  while (n > 0 && (token[n - 1] == '\n' || token[n - 1] == ' ' || token[n - 1] == '\r')) n--;
  token[n] = 0;
}

static void reply(int fd, const char *status, const char *type, const char *body) {
  char head[256];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %s\r\ncontent-type: %s\r\ncontent-length: %zu\r\nconnection: close\r\n\r\n",
                   status, type, strlen(body));
  if (write(fd, head, n) < 0 || write(fd, body, strlen(body)) < 0) return;
}

static void bad_request(int fd, const char *message) {
  char body[256];
  snprintf(body, sizeof body, "{\"error\":\"%s\"}", message);
  reply(fd, "400 Bad Request", "application/json", body);
}

/* The bearer token of the request's Authorization header matches the pod's token. */
static int authorized(const char *req) {
  if (!token[0]) return 0;
  const char *h = strcasestr(req, "\r\nauthorization: bearer ");
  if (!h) return 0;
  h += strlen("\r\nauthorization: bearer ");
  size_t len = strlen(token);
  return strncmp(h, token, len) == 0 && (h[len] == '\r' || h[len] == ' ');
}

/* The raw JSON value of `"key":` in `body` (up to `,` or `}`, spaces trimmed), or NULL. */
static const char *json_value(const char *body, const char *key, char *out, size_t size) {
  char quoted[64];
  snprintf(quoted, sizeof quoted, "\"%s\"", key);
  const char *p = strstr(body, quoted);
  if (!p) return NULL;
  p += strlen(quoted);
  while (*p == ' ') p++;
  if (*p++ != ':') return NULL;
  while (*p == ' ') p++;
  size_t n = 0;
  while (p[n] && p[n] != ',' && p[n] != '}' && n < size - 1) n++;
  while (n > 0 && p[n - 1] == ' ') n--;
  memcpy(out, p, n);
  out[n] = 0;
  return n > 0 ? out : NULL;
}

/* `2` → 2000, `"1500m"` → 1500; -1 for anything else (the forms the operator sends). */
static long parse_milli(const char *v) {
  char *end;
  if (v[0] == '"') {
    long m = strtol(v + 1, &end, 10);
    return end != v + 1 && strcmp(end, "m\"") == 0 ? m : -1;
  }
  long n = strtol(v, &end, 10);
  return end != v && *end == 0 ? n * 1000 : -1;
}

static void memory_json(char *out, size_t size) {
  snprintf(out, size,
           "{\"slots\":%d,\"requestedSlots\":%d,\"minSlots\":1,\"maxSlots\":%d,\"slotSizeBytes\":%lld,"
           "\"sizeBytes\":%lld,\"baseBytes\":%lld,\"pluggedBytes\":%lld}",
           slots, slots, MAX_SLOTS, GIB, slots * GIB, GIB, (slots - 1) * GIB);
}

static void status_json(char *out, size_t size) {
  char memory[512];
  memory_json(memory, sizeof memory);
  snprintf(out, size,
           "{\"guestReady\":true,\"qemuStatus\":\"running\",\"accel\":\"tcg\",\"arch\":\"amd64\","
           "\"networkMode\":\"user\",\"cpuScalingMode\":\"QmpScaling\","
           "\"cpus\":{\"use\":%s,\"plugged\":%ld,\"min\":1,\"max\":%d},\"memory\":%s,"
           "\"migrationRole\":\"none\",\"uptimeSeconds\":1}",
           cpu_use, (cpu_milli + 999) / 1000, MAX_CPUS, memory);
}

static void handle(int c, const char *req, const char *body) {
  char out[1024], value[32];
  if (strncmp(req, "GET /ready ", 11) == 0 || strncmp(req, "GET /ready?", 11) == 0) {
    reply(c, "200 OK", "text/plain; charset=utf-8", "ready\n");
    return;
  }
  int status = strncmp(req, "GET /status ", 12) == 0;
  int cpu_change = strncmp(req, "POST /cpu_change ", 17) == 0;
  int get_memory = strncmp(req, "GET /memory ", 12) == 0;
  int put_memory = strncmp(req, "PUT /memory ", 12) == 0;
  if (!status && !cpu_change && !get_memory && !put_memory) {
    reply(c, "404 Not Found", "application/json", "{\"error\":\"not simulated\"}");
    return;
  }
  if (!authorized(req)) {
    reply(c, "401 Unauthorized", "application/json", "{\"error\":\"missing or wrong bearer token\"}");
    return;
  }
  if (status) {
    status_json(out, sizeof out);
    reply(c, "200 OK", "application/json", out);
  } else if (cpu_change) {
    long milli = json_value(body, "VCPUs", value, sizeof value) ? parse_milli(value) : -1;
    if (milli < 1 || milli > MAX_CPUS * 1000) {
      bad_request(c, "body must be {\\\"VCPUs\\\": <MilliCPU>} within 1..4 CPUs");
      return;
    }
    strcpy(cpu_use, value);
    cpu_milli = milli;
    reply(c, "200 OK", "application/json", "");
  } else {
    if (put_memory) {
      char *end = value;
      long n = json_value(body, "slots", value, sizeof value) ? strtol(value, &end, 10) : -1;
      if (n < 1 || n > MAX_SLOTS || *end) {
        bad_request(c, "body must be {\\\"slots\\\": <integer>} within 1..4");
        return;
      }
      slots = (int)n;
    }
    memory_json(out, sizeof out);
    reply(c, "200 OK", "application/json", out);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <port>\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  load_token();
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 64) < 0) {
    perror("listen");
    return 1;
  }
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) continue;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[8192];
    size_t got = 0;
    char *body = NULL;
    long want = 0;
    /* The head, then as much of the body as content-length says (the scaling calls carry JSON). */
    while (got < sizeof req - 1) {
      ssize_t n = read(c, req + got, sizeof req - 1 - got);
      if (n <= 0) break;
      got += n;
      req[got] = 0;
      if (!body && (body = strstr(req, "\r\n\r\n"))) {
        body += 4;
        const char *cl = strcasestr(req, "\r\ncontent-length:");
        want = cl && cl < body ? strtol(cl + 17, NULL, 10) : 0;
      }
      if (body && (long)(req + got - body) >= want) break;
    }
    req[got] = 0;
    handle(c, req, body ? body : "");
    close(c);
  }
}
