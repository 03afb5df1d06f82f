/*
 * The native per-container shim (conmon-style): `trireme-shim <container-dir>`.
 * Does exactly what the Node shim (src/agent/runtime/shim.ts) does, with the same files:
 *   1. reads launch.bin (below) instead of spec.json, so no JSON parser is needed here,
 *   2. spawns the container process in its own session/process group (pgid = pid), stdin
 *      /dev/null, stdout/stderr on pipes, with the given argv (PATH looked up in the given env),
 *      env and cwd,
 *   3. writes its stdout/stderr to <logDir>/current.log in CRI format, exactly as
 *      ContainerLogWriter (src/agent/logs/writer.ts): `<RFC3339Nano UTC> <stream> <F|P> <text>\n`,
 *      lines longer than maxLineBytes cut into P records, an unterminated last line written as
 *      P at exit, size rotation to current.log.1 before a record would push current.log past
 *      maxLogBytes,
 *   4. writes state.json {shimPid, pid, pgid, startedAt, procStart, shimStart, bootId} once the
 *      exec succeeded (the /proc start times of the container and of this shim, and the boot
 *      id, so that a later agent never takes a recycled pid for them),
 *   5. writes exit.json {exitCode, signal, finishedAt, reason[, message]} when the process ended
 *      and its pipes drained (at most 1 s after the exit: a grandchild may hold them open), then
 *      exits 0. A start failure gives exit.json {exitCode 128, reason StartError, message
 *      "spawn <cmd> <ERRNO>"} and no state.json, as the Node shim reports it.
 * JSON files are written atomically (temp file + rename). Handles EINTR, partial writes, pipes
 * closing before or after the exit, SIGPIPE (ignored here, default again in the child); the
 * child is always reaped. Does not restart anything, fsync, or sandbox.
 *
 * launch.bin (written by ProcessRuntime.start, src/agent/runtime/launch-file.ts): a sequence of
 * NUL-terminated strings:
 *   "trireme-launch-v1", cwd, logDir, maxLogBytes (decimal), maxLineBytes (decimal),
 *   argc (decimal), argv[0..argc-1], envc (decimal), env[0..envc-1] as "KEY=VALUE".
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LAUNCH_MAGIC "trireme-launch-v1"
#define READ_CHUNK 65536
#define DRAIN_MS 1000

/* ---------- small helpers ---------- */

static void die(const char *what) {
  fprintf(stderr, "trireme-shim: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) die("out of memory");
  return q;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes all of buf, retrying on EINTR and short writes. */
static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static int open_cloexec(const char *path, int flags, mode_t mode) {
  int fd;
  do fd = open(path, flags | O_CLOEXEC, mode);
  while (fd < 0 && errno == EINTR);
  return fd;
}

static void set_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFD);
  if (fl >= 0) fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

static char *path_join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = xrealloc(NULL, n);
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* ---------- a growable byte buffer ---------- */

typedef struct {
  char *data;
  size_t len, cap;
} buf_t;

static void buf_put(buf_t *b, const char *s, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
}

static void buf_str(buf_t *b, const char *s) { buf_put(b, s, strlen(s)); }

/* Appends one formatted integer; fmt must be short (the result fits in 128 bytes). */
static void buf_fmt(buf_t *b, const char *fmt, long long v) {
  char tmp[128];
  int n = snprintf(tmp, sizeof tmp, fmt, v);
  if (n < 0 || (size_t)n >= sizeof tmp) n = 0;
  buf_put(b, tmp, (size_t)n);
}

/* A JSON string literal (what JSON.stringify would accept back). */
static void buf_json_str(buf_t *b, const char *s) {
  buf_put(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[8];
    switch (*p) {
      case '"': buf_put(b, "\\\"", 2); break;
      case '\\': buf_put(b, "\\\\", 2); break;
      case '\n': buf_put(b, "\\n", 2); break;
      case '\r': buf_put(b, "\\r", 2); break;
      case '\t': buf_put(b, "\\t", 2); break;
      default:
        if (*p < 0x20) {
          snprintf(esc, sizeof esc, "\\u%04x", *p);
          buf_put(b, esc, 6);
        } else {
          buf_put(b, (const char *)p, 1);
        }
    }
  }
  buf_put(b, "\"", 1);
}

/* Atomically replaces `file` with the buffer: `<file>.tmp-<pid>`, then rename. */
static void write_file_atomic(const char *file, const buf_t *b) {
  size_t n = strlen(file) + 32;
  char *tmp = xrealloc(NULL, n);
  snprintf(tmp, n, "%s.tmp-%ld", file, (long)getpid());
  int fd = open_cloexec(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die(tmp);
  if (write_all(fd, b->data, b->len) < 0) die(tmp);
  if (close(fd) < 0 && errno != EINTR) die(tmp);
  if (rename(tmp, file) < 0) die(file);
  free(tmp);
}

/* ---------- launch.bin ---------- */

typedef struct {
  char *cwd, *log_dir;
  long long max_log_bytes, max_line_bytes;
  char **argv, **env;
} launch_t;

/* Parses launch.bin; returns 0, or -1 if it is missing or malformed. */
static int read_launch(const char *file, launch_t *l) {
  int fd = open_cloexec(file, O_RDONLY, 0);
  if (fd < 0) return -1;
  buf_t b = {0};
  char chunk[8192];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return -1;
    }
    if (n == 0) break;
    buf_put(&b, chunk, (size_t)n);
  }
  close(fd);
  /* Split into NUL-terminated strings. */
  size_t count = 0, cap = 0;
  char **parts = NULL;
  size_t start = 0;
  for (size_t i = 0; i < b.len; i++) {
    if (b.data[i] != '\0') continue;
    if (count == cap) {
      cap = cap ? cap * 2 : 64;
      parts = xrealloc(parts, cap * sizeof *parts);
    }
    parts[count++] = b.data + start;
    start = i + 1;
  }
  size_t k = 0;
#define NEXT() (k < count ? parts[k++] : NULL)
  const char *magic = NEXT();
  if (!magic || strcmp(magic, LAUNCH_MAGIC) != 0) return -1;
  l->cwd = NEXT();
  l->log_dir = NEXT();
  const char *mb = NEXT(), *ml = NEXT(), *ac = NEXT();
  if (!l->cwd || !l->log_dir || !mb || !ml || !ac) return -1;
  l->max_log_bytes = atoll(mb);
  l->max_line_bytes = atoll(ml);
  if (l->max_line_bytes < 1) l->max_line_bytes = 1; /* as Math.max(1, …) in the writer */
  long long argc = atoll(ac);
  if (argc < 1 || (size_t)argc > count - k) return -1;
  l->argv = xrealloc(NULL, ((size_t)argc + 1) * sizeof(char *));
  for (long long i = 0; i < argc; i++) l->argv[i] = NEXT();
  l->argv[argc] = NULL;
  const char *ec = NEXT();
  if (!ec) return -1;
  long long envc = atoll(ec);
  if (envc < 0 || (size_t)envc > count - k) return -1;
  l->env = xrealloc(NULL, ((size_t)envc + 1) * sizeof(char *));
  for (long long i = 0; i < envc; i++) l->env[i] = NEXT();
  l->env[envc] = NULL;
#undef NEXT
  return 0;
}

/* ---------- the CRI log writer (mirrors ContainerLogWriter) ---------- */

typedef struct {
  char *current, *rotated;
  int fd;
  long long size, max_bytes, max_line;
  buf_t pending[2];
} logw_t;

static const char *STREAM_NAME[2] = {"stdout", "stderr"};

static void log_open(logw_t *w) {
  w->fd = open_cloexec(w->current, O_WRONLY | O_APPEND | O_CREAT, 0640);
  if (w->fd < 0) die(w->current);
  struct stat st;
  if (fstat(w->fd, &st) < 0) die(w->current);
  w->size = st.st_size;
}

static void log_append(logw_t *w, int stream, char tag, const char *text, size_t len) {
  static buf_t rec;
  struct timespec ts;
  struct tm tm;
  char stamp[64];
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(stamp + n, sizeof stamp - n, ".%09ldZ %s %c ", (long)ts.tv_nsec, STREAM_NAME[stream], tag);
  rec.len = 0;
  buf_str(&rec, stamp);
  buf_put(&rec, text, len);
  buf_put(&rec, "\n", 1);
  if (w->size > 0 && w->size + (long long)rec.len > w->max_bytes) {
    close(w->fd);
    if (rename(w->current, w->rotated) < 0) die(w->rotated);
    log_open(w);
    w->size = 0;
  }
  if (write_all(w->fd, rec.data, rec.len) < 0) die(w->current);
  w->size += (long long)rec.len;
}

/* Accepts a chunk of output on one stream: whole lines become F, over-long ones P fragments. */
static void log_write(logw_t *w, int stream, const char *chunk, size_t n) {
  buf_t *p = &w->pending[stream];
  buf_put(p, chunk, n);
  size_t off = 0;
  for (;;) {
    const char *start = p->data + off;
    size_t avail = p->len - off;
    const char *nl = memchr(start, '\n', avail);
    size_t at = nl ? (size_t)(nl - start) : 0;
    if (nl && (long long)at <= w->max_line) {
      log_append(w, stream, 'F', start, at);
      off += at + 1;
    } else if ((long long)avail >= w->max_line) {
      log_append(w, stream, 'P', start, (size_t)w->max_line);
      off += (size_t)w->max_line;
    } else {
      break;
    }
  }
  memmove(p->data, p->data + off, p->len - off);
  p->len -= off;
}

static void log_close(logw_t *w) {
  for (int s = 0; s < 2; s++) {
    if (w->pending[s].len > 0) log_append(w, s, 'P', w->pending[s].data, w->pending[s].len);
    w->pending[s].len = 0;
  }
  close(w->fd);
}

/* ---------- signals, errno names ---------- */

static const struct { int num; const char *name; } SIGNALS[] = {
  {SIGHUP, "SIGHUP"}, {SIGINT, "SIGINT"}, {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
  {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"}, {SIGFPE, "SIGFPE"},
  {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
  {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGCHLD, "SIGCHLD"},
  {SIGCONT, "SIGCONT"}, {SIGSTOP, "SIGSTOP"}, {SIGTSTP, "SIGTSTP"}, {SIGTTIN, "SIGTTIN"},
  {SIGTTOU, "SIGTTOU"}, {SIGURG, "SIGURG"}, {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"},
  {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"}, {SIGSYS, "SIGSYS"},
};

static const char *signal_name(int sig) {
  for (size_t i = 0; i < sizeof SIGNALS / sizeof SIGNALS[0]; i++)
    if (SIGNALS[i].num == sig) return SIGNALS[i].name;
  return NULL;
}

/* Node's spawn error messages name the errno: `spawn <cmd> ENOENT`. */
static const char *errno_name(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case ENOTDIR: return "ENOTDIR";
    case ENOEXEC: return "ENOEXEC";
    case E2BIG: return "E2BIG";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EPERM: return "EPERM";
    case ENOMEM: return "ENOMEM";
    case EAGAIN: return "EAGAIN";
    case EISDIR: return "EISDIR";
    case ETXTBSY: return "ETXTBSY";
    case EMFILE: return "EMFILE";
    default: return "UNKNOWN";
  }
}

static int sigchld_pipe[2] = {-1, -1};

static void on_sigchld(int sig) {
  int saved = errno;
  (void)sig;
  ssize_t r = write(sigchld_pipe[1], "x", 1);
  (void)r; /* a full pipe already means "wake up" */
  errno = saved;
}

/* ---------- the child ---------- */

/* execve with a PATH search in the container's env, like libuv's execvpe. */
static void exec_search(char **argv, char **env) {
  const char *cmd = argv[0];
  if (strchr(cmd, '/')) {
    execve(cmd, argv, env);
    return;
  }
  const char *path = "/usr/local/bin:/bin:/usr/bin";
  for (char **e = env; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  int saved = ENOENT;
  size_t clen = strlen(cmd);
  const char *p = path;
  for (;;) {
    const char *end = strchr(p, ':');
    size_t dlen = end ? (size_t)(end - p) : strlen(p);
    char full[PATH_MAX];
    if (dlen + clen + 2 <= sizeof full) {
      if (dlen == 0) memcpy(full, cmd, clen + 1); /* empty entry: the current directory */
      else {
        memcpy(full, p, dlen);
        full[dlen] = '/';
        memcpy(full + dlen + 1, cmd, clen + 1);
      }
      execve(full, argv, env);
      /* Keep looking on "not here"; remember a more telling error (EACCES) as execvp does. */
      if (errno == EACCES) saved = EACCES;
      else if (errno != ENOENT && errno != ENOTDIR) {
        saved = errno;
        break;
      }
    }
    if (!end) break;
    p = end + 1;
  }
  errno = saved;
}

/* In the forked child: never returns; reports an exec failure's errno on errfd. */
static void child_main(const launch_t *l, int out_w, int err_w, int errfd) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  for (int s = 1; s < 32; s++) sigaction(s, &sa, NULL); /* SIGPIPE back to default, etc. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  setsid(); /* own session and process group, as Node's detached: true */
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0 && devnull != 0) {
    dup2(devnull, 0);
    close(devnull);
  }
  if (dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0) goto fail;
  if (out_w > 2) close(out_w);
  if (err_w > 2 && err_w != out_w) close(err_w);
  if (chdir(l->cwd) < 0) goto fail;
  exec_search(l->argv, l->env);
fail:;
  int e = errno;
  ssize_t r = write(errfd, &e, sizeof e);
  (void)r;
  _exit(127);
}

/* ---------- exit.json / state.json ---------- */

static void write_exit(const char *dir, int exit_code, const char *signal, int64_t finished, const char *reason, const char *message) {
  buf_t b = {0};
  buf_fmt(&b, "{\"exitCode\":%lld,\"signal\":", exit_code);
  if (signal) buf_json_str(&b, signal);
  else buf_str(&b, "null");
  buf_fmt(&b, ",\"finishedAt\":%lld,\"reason\":", (long long)finished);
  buf_json_str(&b, reason);
  if (message) {
    buf_str(&b, ",\"message\":");
    buf_json_str(&b, message);
  }
  buf_str(&b, "}");
  char *file = path_join(dir, "exit.json");
  write_file_atomic(file, &b);
  free(file);
  free(b.data);
}

/* Reads a small file (one read) into data as a NUL-terminated string; 0 if absent or empty. */
static int read_small(const char *path, char *data, size_t size) {
  int fd = open_cloexec(path, O_RDONLY, 0);
  if (fd < 0) return 0;
  ssize_t n;
  do n = read(fd, data, size - 1);
  while (n < 0 && errno == EINTR);
  close(fd);
  if (n <= 0) return 0;
  data[n] = '\0';
  return 1;
}

/* Field 22 of /proc/<pid>/stat (start time in clock ticks), or NULL. */
static char *proc_start(pid_t pid) {
  char path[64], data[4096];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  if (!read_small(path, data, sizeof data)) return NULL;
  char *p = strrchr(data, ')');
  if (!p || !p[1] || !p[2]) return NULL;
  p += 2; /* field 3 */
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (!p) return NULL;
    p++;
  }
  size_t len = strcspn(p, " \n");
  char *out = xrealloc(NULL, len + 1);
  memcpy(out, p, len);
  out[len] = '\0';
  return out;
}

/* /proc/sys/kernel/random/boot_id without its newline, or NULL. */
static char *boot_id(void) {
  char data[128];
  if (!read_small("/proc/sys/kernel/random/boot_id", data, sizeof data)) return NULL;
  size_t len = strcspn(data, " \n");
  if (len == 0) return NULL;
  char *out = xrealloc(NULL, len + 1);
  memcpy(out, data, len);
  out[len] = '\0';
  return out;
}

static void put_opt_str(buf_t *b, const char *key, char *value) {
  if (!value) return;
  buf_str(b, ",\"");
  buf_str(b, key);
  buf_str(b, "\":");
  buf_json_str(b, value);
  free(value);
}

static void write_state(const char *dir, pid_t pid, int64_t started) {
  buf_t b = {0};
  buf_fmt(&b, "{\"shimPid\":%lld", (long long)getpid());
  buf_fmt(&b, ",\"pid\":%lld", (long long)pid);
  buf_fmt(&b, ",\"pgid\":%lld", (long long)pid);
  buf_fmt(&b, ",\"startedAt\":%lld", (long long)started);
  put_opt_str(&b, "procStart", proc_start(pid));
  put_opt_str(&b, "shimStart", proc_start(getpid()));
  put_opt_str(&b, "bootId", boot_id());
  buf_str(&b, "}");
  char *file = path_join(dir, "state.json");
  write_file_atomic(file, &b);
  free(file);
  free(b.data);
}

/* ---------- main ---------- */

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: trireme-shim <container-dir>\n");
    return 2;
  }
  const char *dir = argv[1];
  signal(SIGPIPE, SIG_IGN);

  launch_t l;
  memset(&l, 0, sizeof l);
  char *launch_file = path_join(dir, "launch.bin");
  if (read_launch(launch_file, &l) < 0) {
    write_exit(dir, 128, NULL, now_ms(), "StartError", "no launch.bin in the container directory");
    return 0;
  }

  mkdir(l.log_dir, 0777); /* the runtime creates it; tolerate a direct call */
  logw_t w;
  memset(&w, 0, sizeof w);
  w.current = path_join(l.log_dir, "current.log");
  w.rotated = path_join(l.log_dir, "current.log.1");
  w.max_bytes = l.max_log_bytes;
  w.max_line = l.max_line_bytes;
  log_open(&w);

  int out_p[2], err_p[2], exec_p[2];
  if (pipe(out_p) < 0 || pipe(err_p) < 0 || pipe(exec_p) < 0 || pipe(sigchld_pipe) < 0) die("pipe");
  int all[] = {out_p[0], out_p[1], err_p[0], err_p[1], exec_p[0], exec_p[1], sigchld_pipe[0], sigchld_pipe[1]};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) set_cloexec(all[i]);
  fcntl(sigchld_pipe[0], F_SETFL, fcntl(sigchld_pipe[0], F_GETFL) | O_NONBLOCK);
  fcntl(sigchld_pipe[1], F_SETFL, fcntl(sigchld_pipe[1], F_GETFL) | O_NONBLOCK);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigchld;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_NOCLDSTOP;
  if (sigaction(SIGCHLD, &sa, NULL) < 0) die("sigaction");

  pid_t pid = fork();
  if (pid < 0) {
    char msg[256];
    snprintf(msg, sizeof msg, "spawn %s %s", l.argv[0], errno_name(errno));
    write_exit(dir, 128, NULL, now_ms(), "StartError", msg);
    return 0;
  }
  if (pid == 0) child_main(&l, out_p[1], err_p[1], exec_p[1]);
  close(out_p[1]);
  close(err_p[1]);
  close(exec_p[1]);

  /* EOF on the exec pipe: execve succeeded (the pipe is close-on-exec); 4 bytes: its errno. */
  int exec_errno = 0;
  ssize_t got;
  do got = read(exec_p[0], &exec_errno, sizeof exec_errno);
  while (got < 0 && errno == EINTR);
  close(exec_p[0]);
  if (got == (ssize_t)sizeof exec_errno) {
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    log_close(&w);
    char msg[PATH_MAX + 64];
    snprintf(msg, sizeof msg, "spawn %s %s", l.argv[0], errno_name(exec_errno));
    write_exit(dir, 128, NULL, now_ms(), "StartError", msg);
    return 0;
  }
  write_state(dir, pid, now_ms());

  int fds[2] = {out_p[0], err_p[0]};
  int exited = 0, status = 0;
  int64_t finished = 0, drain_deadline = 0;
  static char chunk[READ_CHUNK];
  for (;;) {
    if (!exited) {
      pid_t r = waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        exited = 1;
        finished = now_ms();
        drain_deadline = mono_ms() + DRAIN_MS;
      } else if (r < 0 && errno == ECHILD) {
        /* Cannot happen (we are the parent), but never spin if it does. */
        exited = 1;
        finished = now_ms();
        drain_deadline = mono_ms();
      }
    }
    if (exited && fds[0] < 0 && fds[1] < 0) break;
    int timeout = -1;
    if (exited) {
      int64_t left = drain_deadline - mono_ms();
      if (left <= 0) break;
      timeout = (int)left;
    }
    struct pollfd pf[3];
    int idx[3];
    nfds_t n = 0;
    for (int s = 0; s < 2; s++)
      if (fds[s] >= 0) {
        pf[n].fd = fds[s];
        pf[n].events = POLLIN;
        idx[n++] = s;
      }
    pf[n].fd = sigchld_pipe[0];
    pf[n].events = POLLIN;
    idx[n++] = -1;
    int pr = poll(pf, n, timeout);
    if (pr < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    for (nfds_t i = 0; i < n; i++) {
      if (!pf[i].revents) continue;
      if (idx[i] < 0) {
        char drain[64];
        while (read(sigchld_pipe[0], drain, sizeof drain) > 0) {}
        continue;
      }
      int s = idx[i];
      ssize_t r = read(fds[s], chunk, sizeof chunk);
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r <= 0) {
        close(fds[s]);
        fds[s] = -1;
        continue;
      }
      log_write(&w, s, chunk, (size_t)r);
    }
  }
  for (int s = 0; s < 2; s++)
    if (fds[s] >= 0) close(fds[s]);
  log_close(&w);

  int exit_code;
  const char *sig = NULL;
  if (WIFEXITED(status)) {
    exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit_code = 128 + WTERMSIG(status);
    sig = signal_name(WTERMSIG(status));
  } else {
    exit_code = 128;
  }
  write_exit(dir, exit_code, sig, finished, exit_code == 0 ? "Completed" : "Error", NULL);
  return 0;
}
