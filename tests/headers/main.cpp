// Links the generated one-header translation units; compiling them is the test.
int main() { return 0; }
