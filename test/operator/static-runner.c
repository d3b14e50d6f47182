/*
 * The `static` simulated runner of bench/operator.ts: answers the runner API's GET /ready and
 * GET /status (bearer token checked against the pod's token file) for a 1-CPU, 1-slot VM that never
 * changes. Written in C because a benchmark runs a thousand of these at once: this process needs
 * ~100 KiB of its own memory where python's http.server needed ~15 MB (15 GB for 1,000 VMs).
 *
 * Usage: static-runner <port> <status-json>   (token: $NEONVM_POD_ROOT$NEONVM_RUNNER_TOKEN_FILE)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static char token[256];

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

/* The bearer token of the request's Authorization header matches the pod's token. */
static int authorized(const char *req) {
  if (!token[0]) return 0;
  const char *h = strcasestr(req, "\r\nauthorization: bearer ");
  if (!h) return 0;
  h += strlen("\r\nauthorization: bearer ");
  size_t len = strlen(token);
  return strncmp(h, token, len) == 0 && (h[len] == '\r' || h[len] == ' ');
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s <port> <status-json>\n", argv[0]);
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
    while (got < sizeof req - 1) {
      ssize_t n = read(c, req + got, sizeof req - 1 - got);
      if (n <= 0) break;
      got += n;
      req[got] = 0;
      if (strstr(req, "\r\n\r\n")) break;
    }
    req[got] = 0;
    if (strncmp(req, "GET /ready ", 11) == 0 || strncmp(req, "GET /ready?", 11) == 0)
      reply(c, "200 OK", "text/plain; charset=utf-8", "ready\n");
    else if (strncmp(req, "GET /status ", 12) == 0) {
      if (authorized(req)) reply(c, "200 OK", "application/json", argv[2]);
      else reply(c, "401 Unauthorized", "application/json", "{\"error\":\"missing or wrong bearer token\"}");
    } else
      reply(c, "404 Not Found", "application/json", "{\"error\":\"not simulated\"}");
    close(c);
  }
}
