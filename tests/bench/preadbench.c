// preadbench FILE COUNT BLOCK SEED: COUNT pread(2)s of BLOCK bytes at BLOCK-aligned offsets
// drawn from xorshift64* seeded with SEED. Exit 1 on a failed or short read.
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char** argv) {
  if (argc != 5) { fprintf(stderr, "usage: preadbench FILE COUNT BLOCK SEED\n"); return 2; }
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) { perror(argv[1]); return 1; }
  long count = atol(argv[2]);
  size_t block = (size_t)atol(argv[3]);
  uint64_t s = strtoull(argv[4], NULL, 10) | 1, blocks = (uint64_t)st.st_size / block;
  if (blocks == 0) { fprintf(stderr, "%s: smaller than one block\n", argv[1]); return 1; }
  char* buf = malloc(block);
  for (long i = 0; i < count; ++i) {
    s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
    off_t off = (off_t)(((s * 2685821657736338717ull) % blocks) * block);
    ssize_t n = pread(fd, buf, block, off);
    if (n != (ssize_t)block) { fprintf(stderr, "pread at %lld: %zd\n", (long long)off, n); perror("pread"); return 1; }
  }
  printf("%ld reads\n", count);
  return 0;
}
