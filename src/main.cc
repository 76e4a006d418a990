#include "src/cli.h"

int main(int argc, char** argv) { return zenfs::RunCli(argc, argv); }
