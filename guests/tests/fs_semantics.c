/* File-system semantics in a fresh directory under /tmp: stdio seeking,
 * holes, pread/pwrite, O_APPEND, ftruncate, stat, sorted readdir, rename,
 * unlink, rmdir/mkdir/open errors, symlinks and explicit timestamps. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define DIR_PATH "/tmp/sidecar_fs_semantics"
#define P(name) DIR_PATH "/" name

static void rm_rf(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char child[1024];
                snprintf(child, sizeof child, "%s/%s", path, e->d_name);
                rm_rf(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void write_file(const char *path, const char *data) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("open %s", path);
    size_t n = strlen(data);
    if (write(fd, data, n) != (ssize_t)n) die("write %s", path);
    if (close(fd) != 0) die("close %s", path);
}

/* Reads a whole (small) file into buf as a string; returns its length. */
static long read_file(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    size_t total = 0;
    ssize_t n;
    while (total + 1 < cap && (n = read(fd, buf + total, cap - 1 - total)) > 0) total += (size_t)n;
    buf[total] = '\0';
    close(fd);
    return (long)total;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void stdio_seek(void) {
    char buf[64];
    FILE *f = fopen(P("a.txt"), "w+");
    if (!f) die("fopen");
    fputs("hello world\n", f);
    expect_long("ftell after write", ftell(f), 12);
    fseek(f, 0, SEEK_SET);
    expect_long("ftell after rewind", ftell(f), 0);
    memset(buf, 0, sizeof buf);
    expect_long("fread 5", (long)fread(buf, 1, 5, f), 5);
    expect_str("fread data", buf, "hello");
    fseek(f, -6, SEEK_END);
    expect_long("ftell after SEEK_END-6", ftell(f), 6);
    memset(buf, 0, sizeof buf);
    expect_long("fread rest", (long)fread(buf, 1, sizeof buf, f), 6);
    expect_str("fread rest data", buf, "world\n");
    expect_long("feof", feof(f) != 0, 1);
    fclose(f);
}

static void holes_and_positional(void) {
    char buf[64];
    int fd = open(P("hole.bin"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("open hole.bin");
    expect_long("write abc", write(fd, "abc", 3), 3);
    expect_long("lseek past end", lseek(fd, 10000, SEEK_SET), 10000);
    expect_long("write xyz at 10000", write(fd, "xyz", 3), 3);
    struct stat st;
    fstat(fd, &st);
    expect_long("size with hole", (long)st.st_size, 10003);
    static char hole[9997];
    memset(hole, 0x55, sizeof hole);
    expect_long("pread hole", pread(fd, hole, sizeof hole, 3), (long)sizeof hole);
    int zeros = 1;
    for (size_t i = 0; i < sizeof hole; i++) zeros &= hole[i] == 0;
    expect_yes("hole reads zeros", zeros);
    expect_long("offset after pread", lseek(fd, 0, SEEK_CUR), 10003);

    expect_long("lseek 1", lseek(fd, 1, SEEK_SET), 1);
    expect_long("pwrite Q at 0", pwrite(fd, "Q", 1, 0), 1);
    expect_long("offset after pwrite", lseek(fd, 0, SEEK_CUR), 1);
    memset(buf, 0, sizeof buf);
    expect_long("pread 3 at 0", pread(fd, buf, 3, 0), 3);
    expect_str("pread data", buf, "Qbc");
    memset(buf, 0, sizeof buf);
    expect_long("read 2 at offset 1", read(fd, buf, 2), 2);
    expect_str("read data", buf, "bc");
    expect_long("pread at EOF", pread(fd, buf, 8, 10003), 0);
    expect_long("lseek SEEK_END", lseek(fd, 0, SEEK_END), 10003);
    expect_errno("lseek negative", lseek(fd, -1, SEEK_SET), EINVAL);
    close(fd);
}

static void append_and_truncate(void) {
    char buf[64];
    int fd = open(P("app.txt"), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (fd < 0) die("open app.txt");
    write(fd, "one", 3);
    lseek(fd, 0, SEEK_SET);
    write(fd, "two", 3);
    expect_long("append offset", lseek(fd, 0, SEEK_CUR), 6);
    close(fd);
    read_file(P("app.txt"), buf, sizeof buf);
    expect_str("append content", buf, "onetwo");

    fd = open(P("app.txt"), O_RDWR);
    if (fd < 0) die("open app.txt rw");
    expect_ok("ftruncate 2", ftruncate(fd, 2));
    struct stat st;
    fstat(fd, &st);
    expect_long("size after shrink", (long)st.st_size, 2);
    expect_ok("ftruncate 8", ftruncate(fd, 8));
    fstat(fd, &st);
    expect_long("size after grow", (long)st.st_size, 8);
    memset(buf, 0x55, sizeof buf);
    expect_long("pread grown", pread(fd, buf, sizeof buf, 0), 8);
    expect_yes("grown bytes", !memcmp(buf, "on\0\0\0\0\0\0", 8));
    close(fd);
}

static void stat_types(void) {
    struct stat st;
    expect_ok("stat dir", stat(DIR_PATH, &st));
    expect_yes("dir is S_ISDIR", S_ISDIR(st.st_mode));
    expect_ok("stat a.txt", stat(P("a.txt"), &st));
    expect_yes("a.txt is S_ISREG", S_ISREG(st.st_mode));
    expect_long("a.txt size", (long)st.st_size, 12);
    expect_ok("symlink", symlink("a.txt", P("link")));
    expect_ok("lstat link", lstat(P("link"), &st));
    expect_yes("link is S_ISLNK", S_ISLNK(st.st_mode));
    expect_ok("stat through link", stat(P("link"), &st));
    expect_yes("target is S_ISREG", S_ISREG(st.st_mode));
    char buf[64];
    memset(buf, 0, sizeof buf);
    expect_long("readlink", readlink(P("link"), buf, sizeof buf - 1), 5);
    expect_str("readlink target", buf, "a.txt");
    read_file(P("link"), buf, sizeof buf);
    expect_str("read through link", buf, "hello world\n");
    expect_errno("readlink on file", readlink(P("a.txt"), buf, sizeof buf), EINVAL);
}

static void listing(void) {
    mkdir(P("sub"), 0755);
    write_file(P("sub/zeta"), "z");
    write_file(P("sub/alpha"), "a");
    write_file(P("sub/Mid"), "m");
    mkdir(P("sub/dir"), 0755);
    DIR *d = opendir(P("sub"));
    if (!d) die("opendir");
    char *names[16];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 16) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    printf("listing:");
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
    expect_long("entries incl . and ..", n, 6);
}

static void rename_unlink_errors(void) {
    char buf[64];
    write_file(P("r1"), "AAA");
    write_file(P("r2"), "BBBBBB");
    expect_ok("rename over existing", rename(P("r1"), P("r2")));
    read_file(P("r2"), buf, sizeof buf);
    expect_str("renamed content", buf, "AAA");
    struct stat st;
    expect_errno("stat old name", stat(P("r1"), &st), ENOENT);
    expect_ok("unlink", unlink(P("r2")));
    expect_errno("stat unlinked", stat(P("r2"), &st), ENOENT);
    expect_errno("unlink missing", unlink(P("r2")), ENOENT);
    expect_errno("rmdir non-empty", rmdir(P("sub")), ENOTEMPTY);
    expect_errno("mkdir existing", mkdir(P("sub"), 0755), EEXIST);
    expect_errno("open missing", open(P("missing"), O_RDONLY), ENOENT);
    expect_errno("open O_CREAT|O_EXCL existing", open(P("a.txt"), O_WRONLY | O_CREAT | O_EXCL, 0644),
                 EEXIST);
    expect_errno("open missing dir component", open(P("nodir/x"), O_RDONLY), ENOENT);
    expect_errno("open file as dir", open(P("a.txt/x"), O_RDONLY), ENOTDIR);
    expect_errno("unlink a directory", unlink(P("sub")), EISDIR);
    expect_errno("rmdir a file", rmdir(P("a.txt")), ENOTDIR);
    int fd = open(P("sub/dir"), O_RDONLY | O_DIRECTORY);
    expect_yes("open directory O_DIRECTORY", fd >= 0);
    if (fd >= 0) {
        expect_errno("read a directory", read(fd, buf, sizeof buf), EISDIR);
        close(fd);
    }
    expect_errno("O_DIRECTORY on a file", open(P("a.txt"), O_RDONLY | O_DIRECTORY), ENOTDIR);
}

static void timestamps(void) {
    struct timespec ts[2] = {{1000000000, 123456789}, {1500000000, 987654321}};
    expect_ok("utimensat", utimensat(AT_FDCWD, P("a.txt"), ts, 0));
    struct stat st;
    stat(P("a.txt"), &st);
    printf("atime: %lld.%09ld\n", (long long)st.st_atim.tv_sec, (long)st.st_atim.tv_nsec);
    printf("mtime: %lld.%09ld\n", (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
    expect_yes("utimensat times", st.st_atim.tv_sec == 1000000000 && st.st_atim.tv_nsec == 123456789 &&
                                      st.st_mtim.tv_sec == 1500000000 && st.st_mtim.tv_nsec == 987654321);

    int fd = open(P("a.txt"), O_RDWR);
    struct timespec ts2[2] = {{1234567890, 5}, {0, UTIME_OMIT}};
    expect_ok("futimens", futimens(fd, ts2));
    fstat(fd, &st);
    printf("atime: %lld.%09ld\n", (long long)st.st_atim.tv_sec, (long)st.st_atim.tv_nsec);
    printf("mtime: %lld.%09ld\n", (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
    expect_yes("futimens times", st.st_atim.tv_sec == 1234567890 && st.st_atim.tv_nsec == 5 &&
                                     st.st_mtim.tv_sec == 1500000000 && st.st_mtim.tv_nsec == 987654321);
    close(fd);

    /* "Now", as touch asks for it: NULL, or UTIME_NOW whatever tv_sec holds;
     * and UTIME_OMIT with a tv_sec that is no time at all. */
    time_t start = time(NULL);
    struct timespec omit_m[2] = {{1300000000, 0}, {-7, UTIME_OMIT}};
    expect_ok("utimensat, mtime omitted", utimensat(AT_FDCWD, P("a.txt"), omit_m, 0));
    stat(P("a.txt"), &st);
    expect_yes("atime set, mtime kept", st.st_atim.tv_sec == 1300000000 && st.st_mtim.tv_sec == 1500000000);
    expect_ok("utimensat NULL", utimensat(AT_FDCWD, P("a.txt"), NULL, 0));
    stat(P("a.txt"), &st);
    expect_yes("NULL sets now", st.st_mtim.tv_sec >= start && st.st_atim.tv_sec >= start);
    struct timespec now[2] = {{-1, UTIME_NOW}, {12345, UTIME_NOW}};
    expect_ok("utimensat (1, 1) again", utimensat(AT_FDCWD, P("a.txt"), ts, 0));
    expect_ok("utimensat UTIME_NOW", utimensat(AT_FDCWD, P("a.txt"), now, 0));
    stat(P("a.txt"), &st);
    expect_yes("UTIME_NOW sets now", st.st_mtim.tv_sec >= start && st.st_atim.tv_sec >= start);
    expect_errno("utimensat on a missing file", utimensat(AT_FDCWD, P("none"), NULL, 0), ENOENT);
}

/* fstatat through a directory fd follows what the fd refers to now: after
 * dup2 puts another directory at the same number, and after a close. */
static void dirfd_lookups(void) {
    mkdir(P("da"), 0755);
    mkdir(P("db"), 0755);
    write_file(P("da/only_a"), "a");
    write_file(P("db/only_b"), "b");
    int fd = open(P("da"), O_RDONLY | O_DIRECTORY);
    struct stat st;
    expect_ok("fstatat in da", fstatat(fd, "only_a", &st, 0));
    int other = open(P("db"), O_RDONLY | O_DIRECTORY);
    expect_ok("dup2 db over da", dup2(other, fd));
    expect_errno("fstatat only_a after dup2", fstatat(fd, "only_a", &st, 0), ENOENT);
    expect_ok("fstatat only_b after dup2", fstatat(fd, "only_b", &st, 0));
    close(fd);
    expect_errno("fstatat on a closed fd", fstatat(fd, "only_b", &st, 0), EBADF);
    int file = open(P("da/only_a"), O_RDONLY);
    expect_ok("dup2 a file over it", dup2(file, fd));
    expect_errno("fstatat on a file fd", fstatat(fd, "x", &st, 0), ENOTDIR);
    close(fd);
    close(file);
    close(other);
}

int main(void) {
    rm_rf(DIR_PATH);
    expect_ok("mkdir", mkdir(DIR_PATH, 0755));
    stdio_seek();
    holes_and_positional();
    append_and_truncate();
    stat_types();
    listing();
    rename_unlink_errors();
    timestamps();
    dirfd_lookups();
    rm_rf(DIR_PATH);
    struct stat st;
    expect_errno("removed", stat(DIR_PATH, &st), ENOENT);
    return finish();
}
