#!/bin/sh
# A stand-in for the oemimage tool, for swapped_tool_test: never run.
exit 1
