/*
 * The C reference for TsNet's transport AEAD figures: the same libcrypto, called from C, per 1420-byte buffer.
 *   stream  one EVP_EncryptUpdate per buffer on a context set up once: what `openssl speed -aead -evp
 *           chacha20-poly1305` of OpenSSL 3.0 runs for this cipher (run-aead-reference.sh --probe shows it):
 *           no new nonce, no Poly1305 key block, no tag per buffer, i.e. not an AEAD operation per packet.
 *   seal    a whole AEAD operation per buffer, as a WireGuard packet needs: new nonce, encrypt, final, get tag.
 *   open    the same for decryption: copy the sealed packet in, new nonce + expected tag, decrypt, final (verify).
 * Each mode's cost is the calling thread's CPU time per operation (stable on a loaded machine).
 * Usage: aead-reference MODE COUNT          (prints "MODE NS ns/op")
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { Size = 1420, TagSize = 16 };

static double thread_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void nonce_for(unsigned long long counter, unsigned char nonce[12])
{
    /* WireGuard's nonce: four zero bytes, then the 64-bit counter little-endian. */
    memset(nonce, 0, 4);
    for (int i = 0; i < 8; i++) nonce[4 + i] = (unsigned char)(counter >> (8 * i));
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: %s stream|seal|open COUNT\n", argv[0]); return 2; }
    const char *mode = argv[1];
    long count = atol(argv[2]);
    static unsigned char key[32] = { 1, 2, 3 }, packet[Size], sealed[Size], tag[TagSize], sealed_tag[TagSize];
    unsigned char nonce[12];
    int outl, ok = 1;
    memset(packet, 0x5a, sizeof packet);

    EVP_CIPHER_CTX *enc = EVP_CIPHER_CTX_new(), *dec = EVP_CIPHER_CTX_new();
    if (!enc || !dec
        || !EVP_EncryptInit_ex(enc, EVP_chacha20_poly1305(), NULL, key, NULL)
        || !EVP_DecryptInit_ex(dec, EVP_chacha20_poly1305(), NULL, key, NULL)) { fprintf(stderr, "init failed\n"); return 1; }

    /* A sealed packet for the open mode (counter 0). */
    nonce_for(0, nonce);
    memcpy(sealed, packet, Size);
    ok &= EVP_EncryptInit_ex(enc, NULL, NULL, NULL, nonce) && EVP_EncryptUpdate(enc, sealed, &outl, sealed, Size)
        && EVP_EncryptFinal_ex(enc, sealed_tag, &outl) && EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_AEAD_GET_TAG, TagSize, sealed_tag);

    double start = thread_seconds();
    if (strcmp(mode, "stream") == 0) {
        for (long i = 0; i < count; i++) ok &= EVP_EncryptUpdate(enc, packet, &outl, packet, Size);
    } else if (strcmp(mode, "seal") == 0) {
        for (long i = 0; i < count; i++) {
            nonce_for((unsigned long long)i, nonce);
            ok &= EVP_EncryptInit_ex(enc, NULL, NULL, NULL, nonce) && EVP_EncryptUpdate(enc, packet, &outl, packet, Size)
                && EVP_EncryptFinal_ex(enc, tag, &outl) && EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_AEAD_GET_TAG, TagSize, tag);
        }
    } else if (strcmp(mode, "open") == 0) {
        nonce_for(0, nonce);
        for (long i = 0; i < count; i++) {
            memcpy(packet, sealed, Size);
            ok &= EVP_DecryptInit_ex(dec, NULL, NULL, NULL, nonce)
                && EVP_CIPHER_CTX_ctrl(dec, EVP_CTRL_AEAD_SET_TAG, TagSize, sealed_tag)
                && EVP_DecryptUpdate(dec, packet, &outl, packet, Size) && EVP_DecryptFinal_ex(dec, packet + Size, &outl) > 0;
        }
    } else { fprintf(stderr, "unknown mode %s\n", mode); return 2; }
    double elapsed = thread_seconds() - start;

    if (!ok) { fprintf(stderr, "%s: an EVP call failed\n", mode); return 1; }
    printf("%s %.1f ns/op\n", mode, elapsed / (double)count * 1e9);
    EVP_CIPHER_CTX_free(enc);
    EVP_CIPHER_CTX_free(dec);
    return 0;
}
