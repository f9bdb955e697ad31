// net_loader: checks a network image (docs/board.md, format version 1) and copies its payload
// into the engine's weight write ports.
//
// Bytes pass an input register (s_ready is low while it is full). A cycle with start = 1
// begins an image: the next 48 bytes on s_* are its header. Bytes 0..39
// must equal `header` (the header this bitstream was built for, from the parameters below;
// its CRC fields are zero), bytes 44..47 must be the CRC-32 of bytes 0..43. Otherwise the
// load ends with err_code 6 (magic, version or header size wrong), 7 (header CRC wrong) or
// 5 (a shape, width, T, threshold, leak, reset or word-count field differs), and NOTHING else
// changes: the network loaded before stays valid. A good header clears net_valid (the engine
// is held from here) and the payload follows: W0_WORDS 64-bit words of layer 0 (8 bytes each,
// little-endian, written through w_* at addresses 0, 1, ...), then N_HID output-layer words of
// W1_BYTES bytes each (w1_*). After the last payload byte its CRC-32 (crc) is compared with
// header bytes 40..43: equal sets net_valid, else err_code 7. A byte given after the
// payload (before the next start) ends in err_code 2 (too long) and clears net_valid; bytes
// after a header error are ignored; cancel = 1 ends a
// load in progress with err_code 2 (too short), unless its whole payload is in (then the
// payload check decides).
// Rewind (the host link drops a frame whose CRC-8 is bad): mark = 1 saves the load state;
// rewind = 1 restores it, so the bytes given since the mark are as if never given (weight
// words they wrote lie at or after the saved position and are written again). A mark is
// taken with or before a start, or during the payload (the header fields are not saved).
// err_code: 0 none, 2 BAD_LENGTH, 5 SHAPE_MISMATCH, 6 BAD_MAGIC_OR_VERSION, 7 IMAGE_CRC (the
// host protocol's status codes); it holds the outcome of the last load until the next start.
`default_nettype none

module net_loader #(
    parameter N_IN             = 784,    // engine parameters the image must match
    parameter N_HID            = 128,
    parameter N_OUT            = 10,
    parameter T                = 16,
    parameter CODE_W0          = 2,
    parameter CODE_W1          = 2,
    parameter [63:0] THRESHOLD = 64'd1000,
    parameter LEAK_SHIFT       = 4,
    parameter RESET_SUBTRACT   = 1
) (
    input  wire                 clk,
    input  wire                 rst,        // synchronous, active high (no network)
    input  wire                 start,      // a header follows
    input  wire                 s_valid,    // image bytes
    output wire                 s_ready,
    input  wire [7:0]           s_data,
    input  wire                 mark,       // save the load state
    input  wire                 rewind,     // restore the saved load state
    input  wire                 cancel,      // end the load in progress (too short)
    // engine weight write ports
    output reg                  w_we,
    output reg  [((N_IN * ((N_HID + 64 / CODE_W0 - 1) / (64 / CODE_W0)) > 2) ?
                  $clog2(N_IN * ((N_HID + 64 / CODE_W0 - 1) / (64 / CODE_W0))) : 1)-1:0] w_addr,
    output reg  [63:0]          w_data,
    output reg                  w1_we,
    output reg  [((N_HID > 2) ? $clog2(N_HID) : 1)-1:0] w1_addr,
    output reg  [N_OUT*CODE_W1-1:0] w1_data,
    // status
    output wire                 busy,       // a header or payload is expected
    output wire                 loading,    // the payload is expected (good header seen)
    output reg                  net_valid,  // a complete, checked network is in the engine
    output reg  [3:0]           err_code,
    output wire [31:0]          crc,        // CRC-32 of the payload bytes so far
    output wire [383:0]         header      // the expected header, byte k at [8k +: 8]
);

    localparam LANES    = 64 / CODE_W0;
    localparam WPR      = (N_HID + LANES - 1) / LANES;
    localparam W0_WORDS = N_IN * WPR;
    localparam W0_AW    = (W0_WORDS > 2) ? $clog2(W0_WORDS) : 1;
    localparam HID_AW   = (N_HID > 2) ? $clog2(N_HID) : 1;
    localparam W1_W     = N_OUT * CODE_W1;
    localparam W1_BYTES = (W1_W + 7) / 8;
    localparam PAYLOAD  = 8 * W0_WORDS + W1_BYTES * N_HID;
    localparam BUF_W    = (8 * W1_BYTES > 64) ? 8 * W1_BYTES : 64;

    localparam [31:0] P_N_IN  = N_IN;
    localparam [31:0] P_N_HID = N_HID;
    localparam [31:0] P_N_OUT = N_OUT;
    localparam [31:0] P_T     = T;
    localparam [31:0] P_CW0   = CODE_W0;
    localparam [31:0] P_CW1   = CODE_W1;
    localparam [31:0] P_LEAK  = LEAK_SHIFT;
    localparam [31:0] P_RS    = RESET_SUBTRACT;
    localparam [31:0] P_W0    = W0_WORDS;
    localparam [31:0] P_W1B   = W1_BYTES;
    localparam [31:0] P_PAY   = PAYLOAD;
    localparam WORD_W = (W0_AW > HID_AW) ? W0_AW : HID_AW;
    localparam integer W0_LAST_I = W0_WORDS - 1;
    localparam integer W1_LAST_I = N_HID - 1;
    localparam [WORD_W-1:0] W0_LAST = W0_LAST_I[WORD_W-1:0];
    localparam [WORD_W-1:0] W1_LAST = W1_LAST_I[WORD_W-1:0];
    localparam [31:0] P_W1B_LAST = W1_BYTES - 1;
    localparam [383:0] HDR = {
        32'd0,                // 44 header CRC-32 (not part of the comparison)
        32'd0,                // 40 payload CRC-32 (taken from the image)
        P_PAY,                // 36 payload bytes
        24'd0,                // 33 zero
        P_W1B[7:0],           // 32 w1_word_bytes
        P_N_HID,              // 28 w1_words
        P_W0,                 // 24 w0_words
        THRESHOLD[31:0],      // 20 threshold
        8'd0,                 // 19 flags (no bias section)
        P_RS[7:0],            // 18 reset_subtract
        P_LEAK[7:0],          // 17 leak_shift
        P_T[7:0],             // 16 T
        P_CW1[7:0],           // 15 code_w1
        P_CW0[7:0],           // 14 code_w0
        P_N_OUT[15:0],        // 12 n_out
        P_N_HID[15:0],        // 10 n_hid
        P_N_IN[15:0],         //  8 n_in
        16'd48,               //  6 header bytes
        16'd1,                //  4 format version
        32'h4E4E5349          //  0 magic "ISNN"
    };
    assign header = HDR;

`ifndef SYNTHESIS
    initial begin
        if (THRESHOLD > 64'hFFFFFFFF || N_IN > 65535 || N_HID > 65535 || N_OUT > 65535) begin
            $display("net_loader: a parameter does not fit its header field"); $finish;
        end
    end
`endif

    localparam [2:0] S_IDLE = 3'd0, S_HDR = 3'd1, S_PAY = 3'd2, S_CHECK = 3'd3, S_HCHK = 3'd4;
    localparam [3:0] E_NONE = 4'd0, E_LENGTH = 4'd2, E_SHAPE = 4'd5, E_MAGIC = 4'd6, E_CRC = 4'd7;

    // ---------------------------------------------------------------- load state (saved by mark)
    reg [2:0]       state_q;
    reg [5:0]       hb_q;          // header byte index
    reg             bad_magic_q, bad_shape_q;
    reg [31:0]      pcrc_q;        // payload CRC-32 from the header
    reg [31:0]      hcrc_q;        // header CRC-32 from the header
    reg             in_w1_q;       // payload: output-layer words
    reg [WORD_W-1:0] word_q;       // word index within the layer
    reg [4:0]       bi_q;          // byte index within the word
    reg [BUF_W-1:0] buf_q;         // word being assembled (bytes enter at the top)
    // saved copies
    reg [2:0]       m_state;
    reg             m_in_w1, m_valid;
    reg [WORD_W-1:0] m_word;
    reg [31:0]      m_crc;
    reg [4:0]       m_bi;
    reg [BUF_W-1:0] m_buf;
    reg [3:0]       m_err;
    reg             m_after;
    reg             m_in_v;
    reg  [7:0]      m_in_d;
    reg             after_q;       // a payload has ended since the last start
    // the CRC comparisons are registered: S_HCHK and S_CHECK take two cycles, the first one
    // (second_q = 0) loads these, the second one decides from them
    reg             second_q;
    reg             hcrc_eq_q, pcrc_eq_q;

    // input register: a byte is taken into it (s_ready = empty and no CRC check running) and
    // processed from it in the next cycle, so no path runs from the source into the load state
    reg        in_v_q;
    reg  [7:0] in_d_q;
    wire       take     = in_v_q & (state_q != S_CHECK) & (state_q != S_HCHK);  // the input byte is used
    wire [7:0] b        = in_d_q;
    wire [BUF_W-1:0] buf_d = {b, buf_q[BUF_W-1:8]};
    wire [WORD_W-1:0] w_last_word = in_w1_q ? W1_LAST : W0_LAST;
    wire [4:0]  bi_last  = in_w1_q ? P_W1B_LAST[4:0] : 5'd7;
    wire        word_end = (bi_q == bi_last);
    wire        pay_end  = in_w1_q & word_end & (word_q == W1_LAST);
    wire [7:0]  exp_byte = HDR[{hb_q, 3'b000} +: 8];

    assign s_ready = ~in_v_q & (state_q != S_CHECK);
    assign busy    = (state_q != S_IDLE);
    assign loading = (state_q == S_PAY) | (state_q == S_CHECK);

    // one CRC-32: the header's bytes 0..43, then (cleared) the payload
    wire crc_clr = start | ((state_q == S_HCHK) & ~rewind);   // a rewind loads the saved CRC
    wire crc_en  = take & (((state_q == S_HDR) & (hb_q < 6'd44)) | (state_q == S_PAY));
    crc32 u_crc (
        .clk(clk), .rst(rst), .clr(crc_clr), .en(crc_en), .data(b),
        .ld(rewind), .ld_crc(m_crc), .crc(crc)
    );

    always @(posedge clk) begin
        w_we  <= 1'b0;
        w1_we <= 1'b0;
        hcrc_eq_q <= (crc == hcrc_q);
        pcrc_eq_q <= (crc == pcrc_q);
        second_q  <= ((state_q == S_HCHK) | (state_q == S_CHECK)) & ~second_q & ~rst & ~rewind & ~start & ~cancel;
        if (take) in_v_q <= 1'b0;
        if (s_valid & s_ready) begin
            in_v_q <= 1'b1;
            in_d_q <= s_data;
        end
        if (rst | start | cancel) in_v_q <= 1'b0;   // a byte not yet used is dropped
        if (rewind & ~rst) begin
            in_v_q <= m_in_v;
            in_d_q <= m_in_d;
        end
        if (rst) begin
            state_q   <= S_IDLE;
            net_valid <= 1'b0;
            err_code  <= E_NONE;
            m_state   <= S_IDLE;
            m_in_v    <= 1'b0;
            m_valid   <= 1'b0;
            m_err     <= E_NONE;
            m_after   <= 1'b0;
            after_q   <= 1'b0;
        end else if (rewind) begin
            state_q   <= m_state;
            in_w1_q   <= m_in_w1;
            word_q    <= m_word;
            bi_q      <= m_bi;
            buf_q     <= m_buf;
            net_valid <= m_valid;
            err_code  <= m_err;
            after_q     <= m_after;
        end else if (start) begin
            state_q     <= S_HDR;
            hb_q        <= 6'd0;
            bad_magic_q <= 1'b0;
            bad_shape_q <= 1'b0;
            err_code    <= E_NONE;
            after_q     <= 1'b0;
        end else if (cancel & (state_q != S_CHECK)) begin   // a whole payload is checked
            if (state_q != S_IDLE) begin
                state_q   <= S_IDLE;
                err_code  <= E_LENGTH;
                net_valid <= net_valid & ((state_q == S_HDR) | (state_q == S_HCHK));
            end
        end else begin
            case (state_q)
                S_IDLE: if (take & after_q) begin   // a byte after the payload: too long
                    err_code  <= E_LENGTH;
                    net_valid <= 1'b0;
                end
                S_HDR: if (take) begin
                    hb_q <= hb_q + 6'd1;
                    if (hb_q < 6'd8 && b != exp_byte) bad_magic_q <= 1'b1;
                    if (hb_q >= 6'd8 && hb_q < 6'd40 && b != exp_byte) bad_shape_q <= 1'b1;
                    if (hb_q >= 6'd40 && hb_q < 6'd44) pcrc_q <= {b, pcrc_q[31:8]};
                    if (hb_q >= 6'd44) hcrc_q <= {b, hcrc_q[31:8]};
                    if (hb_q == 6'd47) state_q <= S_HCHK;
                end
                S_HCHK: begin   // the whole header is in; crc held the CRC-32 of bytes 0..43
                    if (second_q) begin
                        if (bad_magic_q) begin
                            state_q  <= S_IDLE;
                            err_code <= E_MAGIC;
                        end else if (~hcrc_eq_q) begin
                            state_q  <= S_IDLE;
                            err_code <= E_CRC;
                        end else if (bad_shape_q) begin
                            state_q  <= S_IDLE;
                            err_code <= E_SHAPE;
                        end else begin
                            state_q   <= S_PAY;
                            net_valid <= 1'b0;
                            in_w1_q   <= 1'b0;
                            word_q    <= {WORD_W{1'b0}};
                            bi_q      <= 5'd0;
                        end
                    end
                end
                S_PAY: if (take) begin
                    buf_q <= buf_d;
                    bi_q  <= word_end ? 5'd0 : bi_q + 5'd1;
                    if (word_end) begin
                        word_q <= (word_q == w_last_word) ? {WORD_W{1'b0}} : word_q + 1'b1;
                        if (word_q == w_last_word) in_w1_q <= 1'b1;
                        if (in_w1_q) begin
                            w1_we   <= 1'b1;
                            w1_addr <= word_q[HID_AW-1:0];
                            w1_data <= buf_d[BUF_W-8*W1_BYTES +: W1_W];
                        end else begin
                            w_we   <= 1'b1;
                            w_addr <= word_q[W0_AW-1:0];
                            w_data <= buf_d[BUF_W-1 -: 64];
                        end
                    end
                    if (pay_end) state_q <= S_CHECK;
                end
                default: if (second_q) begin  // S_CHECK: crc covered the whole payload
                    state_q <= S_IDLE;
                    after_q <= 1'b1;
                    if (pcrc_eq_q) net_valid <= 1'b1;
                    else err_code <= E_CRC;
                end
            endcase
        end
        if (mark & ~rst) begin
            m_state <= state_q;
            m_in_w1 <= in_w1_q;
            m_word  <= word_q;
            m_bi    <= bi_q;
            m_buf   <= buf_q;
            m_valid <= net_valid;
            m_err   <= err_code;
            m_crc   <= crc;
            m_after     <= after_q;
            m_in_v      <= in_v_q;
            m_in_d      <= in_d_q;
        end
    end

endmodule

`default_nettype wire
