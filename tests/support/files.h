/* Small text files for tests that drive the tools through the file system. */
#ifndef MXU_TEST_FILES_H
#define MXU_TEST_FILES_H

/* Write text to path (the test fails if it cannot). */
void test_write_file(const char *path, const char *text);

/* The content of path, NUL-terminated, in a static buffer of 256 KiB that the
 * next call reuses (longer files are cut); NULL if the file cannot be opened. */
const char *test_read_file(const char *path);

#endif
