/* The mxu host link (docs/link.md): framed, CRC-checked packets over any byte
 * stream -- an FT232H/FT2232H synchronous FIFO on a board, the Verilated link
 * engine (rtl/mxu_link.v) in simulation.
 *
 * Two layers, one codec:
 *   - the codec (link_codec.c): packet encoding, header/payload CRCs and a
 *     streaming decoder that finds packets in a byte stream after garbage;
 *   - the client (link_client.c): memory and CSR access over a byte transport
 *     (mxu_link_io), with tags, a flow-control window, timeouts and retries.
 *
 * Wire format (all fields little-endian):
 *
 *   0      1      2    3    4          8        10        12      13     14
 *   +------+------+----+----+----------+--------+---------+-------+------+--------+
 *   | 0xA5 | 0x5A | OP | TAG| ADDR     | LEN    | COUNT   |STATUS | rsvd | HCRC   |
 *   +------+------+----+----+----------+--------+---------+-------+------+--------+
 *   then LEN payload bytes and, when LEN > 0, their CRC-32 (4 bytes).
 *
 *   HCRC = CRC-16/ARC of bytes 0..13 (so the CRC of all 16 bytes is 0);
 *   payload CRC = CRC-32/IEEE (mxu_crc32) of the payload. */
#ifndef MXU_LINK_H
#define MXU_LINK_H

#include <stddef.h>
#include <stdint.h>

/* ---- wire constants (rtl/mxu_link_rx.v and mxu_link_exec.v state them too;
 * tests/link/test_link_codec.c checks they agree) ------------------------- */
#define MXU_LINK_VERSION 1u
#define MXU_LINK_SYNC0 0xA5u
#define MXU_LINK_SYNC1 0x5Au
#define MXU_LINK_HEADER_BYTES 16u
#define MXU_LINK_CRC_BYTES 4u          /* payload CRC-32, present when LEN > 0 */
#define MXU_LINK_LEN_MAX 65535u        /* what the 16-bit LEN field can say */
#define MXU_LINK_RESPONSE 0x80u        /* OP bit 7: a response (device -> host) */
#define MXU_LINK_INFO_BYTES 24u        /* payload of the INFO response */

enum mxu_link_op {
    MXU_LINK_OP_INFO = 0x01,      /* link parameters and counters (24-byte response) */
    MXU_LINK_OP_MEM_WRITE = 0x02, /* ADDR, LEN bytes of payload -> device DRAM */
    MXU_LINK_OP_MEM_READ = 0x03,  /* ADDR, COUNT bytes <- device DRAM (response payload) */
    MXU_LINK_OP_CSR_WRITE = 0x04, /* ADDR = CSR offset, 4-byte payload = value */
    MXU_LINK_OP_CSR_READ = 0x05,  /* ADDR = CSR offset, COUNT = 4 (4-byte response) */
};

/* STATUS of a response: what the device did with the request. */
enum mxu_link_status {
    MXU_LINK_OK = 0,
    MXU_LINK_ERR_CRC = 1,     /* payload CRC-32 wrong: nothing done, send it again */
    MXU_LINK_ERR_LENGTH = 2,  /* LEN/COUNT wrong for the opcode or above the maximum */
    MXU_LINK_ERR_ADDRESS = 3, /* outside device DRAM, or not a CSR of the 4 KiB map */
    MXU_LINK_ERR_OPCODE = 4,  /* unknown opcode (or the response bit set) */
};

/* ---- codec ------------------------------------------------------------------ */

typedef struct mxu_link_header {
    uint8_t op, tag, status;
    uint32_t addr;
    uint16_t len;   /* payload bytes that follow the header */
    uint16_t count; /* MEM_READ / CSR_READ requests: bytes asked for; else 0 */
} mxu_link_header;

/* The INFO response's payload. */
typedef struct mxu_link_info {
    uint16_t version;       /* MXU_LINK_VERSION of the device */
    uint16_t max_payload;   /* largest LEN / COUNT the device takes */
    uint32_t rx_window;     /* payload bytes of requests it buffers (flow control) */
    uint16_t rx_packets;    /* requests it buffers (flow control) */
    uint32_t packets;       /* valid request headers seen since reset */
    uint32_t crc_errors;    /* requests whose payload CRC failed */
    uint32_t skipped;       /* bytes discarded while hunting for a header */
} mxu_link_info;

/* CRC-16/ARC (reflected 0x8005, init 0, no final XOR): "123456789" -> 0xBB3D. */
uint16_t mxu_link_crc16(const void *data, size_t len);

/* Bytes on the wire of a packet with len payload bytes. */
size_t mxu_link_packet_bytes(uint32_t len);

/* Encode a packet (h->len payload bytes from payload). Returns its size, or 0
 * when cap is too small or h->len > 0 without a payload. */
size_t mxu_link_encode(const mxu_link_header *h, const void *payload, uint8_t *out, size_t cap);

/* Decode a 16-byte header: 1 when both sync bytes and HCRC are right. */
int mxu_link_parse_header(const uint8_t *bytes, mxu_link_header *h);

/* INFO payload <-> struct (MXU_LINK_INFO_BYTES bytes). */
void mxu_link_info_encode(const mxu_link_info *info, uint8_t *out);
void mxu_link_info_decode(const uint8_t *in, mxu_link_info *info);

const char *mxu_link_op_name(unsigned op);          /* "MEM_WRITE", "?" */
const char *mxu_link_status_name(unsigned status);  /* "bad CRC", ... */

/* Streaming decoder: feed it bytes as they arrive; it hunts for a valid
 * header (sync bytes + HCRC over a sliding 16-byte window, so a false start
 * never hides a real header behind it), then takes LEN payload bytes and the
 * CRC. A header whose LEN exceeds max_payload is reported at once and its
 * payload is not waited for (hunting resumes after the header). */
enum mxu_link_frame_kind {
    MXU_LINK_FRAME_OK = 0,       /* header and payload CRC good */
    MXU_LINK_FRAME_BAD_CRC = 1,  /* header good, payload CRC wrong */
    MXU_LINK_FRAME_TOO_LONG = 2, /* header good, LEN > max_payload */
};

typedef struct mxu_link_frame {
    mxu_link_header hdr;
    const uint8_t *payload; /* hdr.len bytes (OK / BAD_CRC), valid until the next feed */
    int kind;               /* enum mxu_link_frame_kind */
} mxu_link_frame;

typedef struct mxu_link_decoder { /* fields are private */
    uint32_t max_payload;
    int state;
    uint8_t window[MXU_LINK_HEADER_BYTES];
    uint32_t fill; /* header: window bytes held; payload: bytes received */
    mxu_link_header hdr;
    uint8_t *payload; /* max_payload + MXU_LINK_CRC_BYTES */
    uint64_t skipped; /* bytes discarded while hunting */
} mxu_link_decoder;

/* max_payload <= MXU_LINK_LEN_MAX. MXU_ERR_NOMEM / MXU_ERR_INVAL. */
int mxu_link_decoder_init(mxu_link_decoder *d, uint32_t max_payload);
void mxu_link_decoder_free(mxu_link_decoder *d);
/* Forget any partial packet and hunt again. */
void mxu_link_decoder_reset(mxu_link_decoder *d);

/* Consume bytes up to and including the end of the next frame. Returns the
 * bytes consumed; *done = 1 when *frame holds a frame (feed the rest again). */
size_t mxu_link_decode(mxu_link_decoder *d, const uint8_t *data, size_t len, mxu_link_frame *frame,
                       int *done);

/* ---- client ------------------------------------------------------------------ */

/* A byte transport. send: all len bytes, or a negative mxu_status. recv: at
 * least one byte (*got), or MXU_ERR_TIMEOUT after timeout_ms, or another
 * negative status (MXU_ERR_USB: unplugged, ...). */
typedef struct mxu_link_io {
    void *ctx;
    int (*send)(void *ctx, const uint8_t *buf, size_t len, int timeout_ms);
    int (*recv)(void *ctx, uint8_t *buf, size_t cap, size_t *got, int timeout_ms);
} mxu_link_io;

typedef struct mxu_link mxu_link;

/* Open a link over io (copied): asks the device's INFO (max payload, window),
 * retrying like any request. MXU_ERR_TIMEOUT when nothing answers,
 * MXU_ERR_LINK when what answers does not speak this protocol. */
int mxu_link_open(const mxu_link_io *io, mxu_link **out);
void mxu_link_close(mxu_link *l);

/* The same with a policy in force from the first packet on (the setters
 * below change it later). Zero fields take the defaults. */
typedef struct mxu_link_policy {
    int timeout_ms;     /* default 1000 */
    unsigned retries;   /* default 4; use MXU_LINK_NO_RETRIES for none */
    uint32_t rx_buffer; /* default 65536 */
} mxu_link_policy;
#define MXU_LINK_NO_RETRIES 0xFFFFFFFFu
int mxu_link_open_with(const mxu_link_io *io, const mxu_link_policy *policy, mxu_link **out);

/* Device DRAM and CSR access. Any size and alignment; large transfers are cut
 * into max-payload packets kept in flight up to the device's window. Errors:
 * MXU_ERR_RANGE (the device says: outside its DRAM / not a CSR), MXU_ERR_LINK
 * (CRC errors beyond the retry limit, protocol violations), MXU_ERR_TIMEOUT
 * (no answer within the timeout, retries included), the transport's own
 * errors (MXU_ERR_USB, ...). Details name the request. */
int mxu_link_mem_write(mxu_link *l, uint32_t addr, const void *data, size_t bytes);
int mxu_link_mem_read(mxu_link *l, uint32_t addr, void *data, size_t bytes);
int mxu_link_csr_write(mxu_link *l, uint32_t offset, uint32_t value);
int mxu_link_csr_read(mxu_link *l, uint32_t offset, uint32_t *value);

/* The device's INFO, read again now (its counters move). */
int mxu_link_info_read(mxu_link *l, mxu_link_info *info);

struct mxu_link_stats {
    uint64_t tx_bytes;      /* bytes sent (packets, retries and flushes included) */
    uint64_t rx_bytes;      /* bytes received */
    uint64_t payload_bytes; /* user data moved: memory bytes written/read, 4 per CSR access */
    uint64_t packets;       /* request packets sent (retries included) */
    uint64_t retries;       /* requests sent again */
    uint64_t crc_errors;    /* bad CRCs: responses the host rejected + BAD_CRC answers */
    uint64_t timeouts;      /* waits for a response that timed out */
};
void mxu_link_get_stats(const mxu_link *l, struct mxu_link_stats *s);
void mxu_link_reset_stats(mxu_link *l);

/* Policy. timeout_ms: how long to wait for the next response byte (default
 * 1000). retries: how often one request is sent again after a timeout or a
 * CRC error (default 4). */
void mxu_link_set_timeout(mxu_link *l, int timeout_ms);
void mxu_link_set_retries(mxu_link *l, unsigned retries);
/* Bytes of responses the host can take in before it reads them (default 64
 * KiB; the transport's receive buffering): bounds what is asked in flight. */
void mxu_link_set_rx_buffer(mxu_link *l, uint32_t bytes);
/* The device's link parameters learnt at open. */
void mxu_link_device_info(const mxu_link *l, mxu_link_info *info);

#endif
