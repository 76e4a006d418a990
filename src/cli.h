// The command line (SPEC §5), parsed with CLI11.
#pragma once

namespace zenfs {

// Parses argv and runs the chosen command; returns the process exit code.
int RunCli(int argc, char** argv);

}  // namespace zenfs
