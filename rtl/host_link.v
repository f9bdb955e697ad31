// host_link: the board's UART protocol (docs/board.md): frame receiver and transmitter, the
// command FSM (INFO, CLASSIFY, LOAD_BEGIN/DATA/END, SELFTEST) and the boot from flash.
//
// Boot (after reset): the network image is read from flash at NET_ADDR through the flash
// reader into net_loader; the link listens once the loader has finished (state 1 ready if the
// image was good, else 2 error with the loader's error code).
// Frames: host -> board 0xA5, cmd, len (u16 LE), payload, CRC-8/SMBUS over cmd..payload;
// board -> host 0x5A, cmd, status, len, payload, CRC-8 over cmd..payload. Bytes before 0xA5
// are skipped; a frame whose next byte does not come within TIMEOUT cycles (1 ms) is dropped
// (reply TIMEOUT). Payload bytes of CLASSIFY (to the engine) and LOAD_BEGIN/LOAD_DATA (to the
// loader) are forwarded as they arrive; a frame that then fails (bad CRC-8, timeout) is
// undone: the engine is reset (its partial image and result dropped), the loader is rewound to
// the state saved at the frame's start. A frame whose command, length or precondition is
// wrong forwards nothing. So a bad frame never executes; the reply names why and the link
// waits for the next 0xA5. Bytes received while a command runs or a reply is sent are ignored.
// The engine takes pixels only while the loader reports a valid network (net_valid).
// Cycle counts (CLASSIFY, SELFTEST) are cycles with the engine's busy high, i.e. exactly
// icespike.rtlsim.cycle_model of the images.
`default_nettype none

module host_link #(
    parameter CLK_HZ    = 48000000,  // clock frequency (reported by INFO; sets the timeout)
    parameter BAUD      = 3000000,   // UART baud rate; CLK_HZ / BAUD integer >= 8
    parameter N_IN      = 784,       // engine parameters
    parameter N_OUT     = 10,
    parameter SCORE_W   = 13,
    parameter [23:0] NET_ADDR  = 24'h100000,  // flash offset of the network image
    parameter [23:0] TEST_ADDR = 24'h140000   // flash offset of the test-image block
) (
    input  wire                     clk,
    input  wire                     rst,          // synchronous, active high: boot again
    // UART
    input  wire                     rx,
    output wire                     tx,
    // flash reader (spi_flash_reader)
    output reg                      fl_start,
    output wire [23:0]              fl_addr,
    output reg                      fl_stop,
    input  wire                     fl_valid,
    output wire                     fl_ready,
    input  wire [7:0]               fl_data,
    // network loader (net_loader)
    output reg                      ld_start,
    output wire                     ld_valid,
    input  wire                     ld_ready,
    output wire [7:0]               ld_data,
    output reg                      ld_mark,
    output reg                      ld_rewind,
    output reg                      ld_cancel,
    input  wire                     ld_busy,
    input  wire                     ld_loading,
    input  wire                     ld_net_valid,
    input  wire [3:0]               ld_err,
    input  wire [31:0]              ld_crc,
    input  wire [383:0]             ld_header,
    // engine (snn_engine)
    output wire                     eng_rst,      // reset request (ORed with rst by the caller)
    output wire                     eng_valid,
    input  wire                     eng_ready,
    output wire [7:0]               eng_data,
    input  wire                     eng_m_valid,
    output reg                      eng_m_ready,
    input  wire [((N_OUT > 2) ? $clog2(N_OUT) : 1)-1:0] eng_class,
    input  wire [N_OUT*SCORE_W-1:0] eng_scores,
    input  wire                     eng_busy,
    // status
    output wire [1:0]               state         // 0 booting, 1 ready, 2 error
);

    localparam CPB     = CLK_HZ / BAUD;
    localparam integer TIMEOUT_I = (CLK_HZ + 999) / 1000;
    localparam TO_W    = $clog2(TIMEOUT_I + 1);
    localparam [TO_W-1:0] TIMEOUT = TIMEOUT_I[TO_W-1:0];
    localparam CLS_W   = (N_OUT > 2) ? $clog2(N_OUT) : 1;
    localparam integer N_IN_I  = N_IN;   // 32-bit copies, so the sized values below are part-selects
    localparam integer N_OUT_I = N_OUT;
    localparam integer L_CLS_I = 1 + 4 * N_OUT + 4;
    localparam integer PIX_LAST_I = N_IN - 1;
    localparam [15:0] L_PIX = N_IN_I[15:0];
    localparam [15:0] L_INFO = 16'd64;
    localparam [15:0] L_CLS  = L_CLS_I[15:0];
    localparam [31:0] P_CLK  = CLK_HZ;
    localparam [31:0] P_BAUD = BAUD;
    localparam [10:0] PIX_LAST = PIX_LAST_I[10:0];

`ifndef SYNTHESIS
    initial begin
        if (CLK_HZ % BAUD != 0 || CPB < 8) begin
            $display("host_link: CLK_HZ / BAUD must be an integer >= 8 (CLK_HZ %0d, BAUD %0d)", CLK_HZ, BAUD);
            $finish;
        end
        if (N_IN > 2047 || SCORE_W > 32) begin
            $display("host_link: N_IN must be < 2048 and SCORE_W <= 32"); $finish;
        end
    end
`endif

    // commands and status codes
    localparam [7:0] C_INFO = 8'h01, C_CLASSIFY = 8'h02, C_BEGIN = 8'h03, C_DATA = 8'h04,
                     C_END = 8'h05, C_SELFTEST = 8'h06;
    localparam [7:0] ST_OK = 8'd0, ST_CRC8 = 8'd1, ST_LENGTH = 8'd2, ST_UNKNOWN = 8'd3,
                     ST_TIMEOUT = 8'd4, ST_NOT_READY = 8'd8, ST_SEQUENCE = 8'd9, ST_RANGE = 8'd10;

    // ================================================================ UART
    wire       ur_valid;
    wire [7:0] ur_data;
    wire       unused_frame_err;    // a lost byte shows as a bad CRC-8 or a timeout
    uart_rx #(.CLKS_PER_BIT(CPB)) u_rx (
        .clk(clk), .rst(rst), .rx(rx), .m_valid(ur_valid), .m_data(ur_data), .frame_err(unused_frame_err)
    );
    // reply bytes pass a register slice on their way to the transmitter: no path from the
    // reply framer's byte multiplexers into the transmitter's shift register
    reg        tx_valid;
    reg  [7:0] tx_byte;
    wire       tx_ready;
    wire       txq_valid, txq_ready;
    wire [7:0] txq_data;
    stream_reg #(.W(8)) u_txq (
        .clk(clk), .rst(rst), .s_valid(tx_valid), .s_ready(tx_ready), .s_data(tx_byte),
        .m_valid(txq_valid), .m_ready(txq_ready), .m_data(txq_data)
    );
    uart_tx #(.CLKS_PER_BIT(CPB)) u_tx (
        .clk(clk), .rst(rst), .s_valid(txq_valid), .s_ready(txq_ready), .s_data(txq_data), .tx(tx)
    );
    wire tx_fire = tx_valid & tx_ready;

    // ================================================================ main FSM
    localparam [3:0] M_BOOT = 4'd0, M_SYNC = 4'd1, M_CMD = 4'd2, M_LEN0 = 4'd3, M_LEN1 = 4'd4,
                     M_PAY = 4'd5, M_CRC = 4'd6, M_EXEC = 4'd7, M_CLS = 4'd8, M_THDR = 4'd9,
                     M_REPLY = 4'd10, M_DONE = 4'd11;
    reg  [3:0]      m_q;
    reg             booted_q;      // the boot load has ended
    reg  [7:0]      cmd_q;
    reg  [15:0]     len_q;
    reg  [15:0]     cnt_q;         // payload bytes received
    reg  [5:0]      tcnt_q;        // reply payload bytes sent (saturating; indexes INFO, CLASSIFY, LOAD_END)
    reg  [7:0]      status_q;      // reply status decided at the length (0 = none yet)
    reg  [1:0]      fwd_q;         // payload goes to: 0 nowhere, 1 engine, 2 loader
    reg  [TO_W-1:0] idle_q;        // cycles since the last byte of this frame
    reg  [15:0]     n_q;           // SELFTEST N, low 16 bits (payload, little-endian)
    reg             n_big_q;       // SELFTEST N >= 65536
    reg             fl_test_q;     // the flash read is of the test block (else the network)
    reg             load_open_q;   // a LOAD_BEGIN was accepted and LOAD_END not yet seen
    reg             eng_rst_q;
    reg  [31:0]     net_crc_q;     // payload CRC of the loaded network
    reg             net_valid_d;

    // reply framer state
    localparam [2:0] P_SYNC = 3'd0, P_CMD = 3'd1, P_STATUS = 3'd2, P_LEN0 = 3'd3, P_LEN1 = 3'd4,
                     P_PAY = 3'd5, P_CRC = 3'd6;
    reg  [2:0]      rp_q;
    reg  [15:0]     rlen_q;
    reg  [15:0]     rleft_q;       // reply payload bytes still to send

    // CRC-8 of the frame being received
    wire [7:0] rx_crc;
    wire       rx_in_frame = (m_q == M_CMD) | (m_q == M_LEN0) | (m_q == M_LEN1) | (m_q == M_PAY);
    crc8 u_rx_crc (
        .clk(clk), .rst(rst), .clr(m_q == M_SYNC), .en(rx_valid & rx_in_frame), .data(rx_data), .crc(rx_crc)
    );

    // payload holding registers (bytes come >= 8*CPB cycles apart; each drains in a few cycles)
    reg        hv_q;
    reg  [7:0] hd_q;

    // SELFTEST: record streaming
    localparam [1:0] R_HDR = 2'd0, R_LABEL = 2'd1, R_PIX = 2'd2, R_END = 2'd3;
    reg  [1:0]   rs_q;              // what the next flash byte is
    reg  [4:0]   th_q;              // test header byte index
    reg          tbad_q;            // a fixed test header field differs
    reg  [15:0]  tcount_q;          // test header count, low 16 bits
    reg          tbig_q;            // ... >= 65536
    reg  [10:0]  pix_q;             // pixel index within the record
    reg  [15:0]  issued_q;          // records whose label was read
    reg  [15:0]  done_q;            // results sent
    reg  [1:0]   fly_q;             // records read whose class is not yet sent (<= 2)
    reg  [7:0]   lab0_q, lab1_q;    // labels of records with even / odd index
    reg  [15:0]  correct_q;
    reg  [39:0]  cycles_q;          // engine busy cycles (CLASSIFY: this image; SELFTEST: total)
    reg          selftest_q;        // SELFTEST records stream (M_REPLY)
    wire         in_flight2 = fly_q[1];
    wire         st_stream  = selftest_q & (rs_q != R_END);
    wire         st_label_ok = (rs_q == R_LABEL) & ~in_flight2 & (issued_q != n_q);
    wire         st_pix     = st_stream & (rs_q == R_PIX);

    // ---------------------------------------------------------------- forwarding
    wire boot_fwd = (m_q == M_BOOT) & ld_busy & ~ld_start;
    assign ld_valid  = boot_fwd ? fl_valid : (hv_q & (fwd_q == 2'd2));
    assign ld_data   = boot_fwd ? fl_data : hd_q;
    assign eng_valid = ld_net_valid & (st_pix ? fl_valid : (hv_q & (fwd_q == 2'd1)));
    assign eng_data  = st_pix ? fl_data : hd_q;
    assign fl_ready  = boot_fwd ? ld_ready
                     : (m_q == M_THDR) ? (th_q != 5'd16)
                     : st_stream ? ((rs_q == R_HDR) | st_label_ok | (st_pix & eng_ready & ld_net_valid))
                     : 1'b0;
    assign eng_rst   = eng_rst_q;
    wire hold_take   = hv_q & (((fwd_q == 2'd2) & ld_ready) | ((fwd_q == 2'd1) & eng_ready & ld_net_valid)
                               | (fwd_q == 2'd0));
    wire fl_take     = fl_valid & fl_ready;

    // ---------------------------------------------------------------- reply bytes
    // INFO payload: u16 1, header (CRC fields zero), u32 net CRC, u8 state, u8 error, u32 clock, u32 baud
    wire [1:0]   st_now = ~booted_q | ld_busy ? 2'd0 : (ld_net_valid ? 2'd1 : 2'd2);
    assign state = st_now;
    wire [511:0] info_vec = {P_BAUD, P_CLK, 4'd0, ld_err, 6'd0, st_now, (ld_net_valid ? net_crc_q : 32'd0),
                             ld_header, 16'd1};
    // CLASSIFY payload: u8 class, N_OUT x i32 score, u32 cycles
    // (byte cnt: 0 class; then score sc_q byte bs_q; sc_q = N_OUT: the cycle count)
    reg  [4:0]   sc_q;
    reg  [1:0]   bs_q;
    wire [SCORE_W-1:0] sc_sel = eng_scores[sc_q*SCORE_W +: SCORE_W];
    localparam [4:0] SC_CYC = N_OUT_I[4:0];
    wire [63:0]  sc_wide = {{(64-SCORE_W){sc_sel[SCORE_W-1]}}, sc_sel};
    wire [31:0]  sc_ext  = (sc_q == SC_CYC) ? cycles_q[31:0] : sc_wide[31:0];
    wire         unused_sc_wide = &{sc_wide[63:32], 1'b0};
    wire [7:0]   sc_byte = sc_ext[{bs_q, 3'b000} +: 8];
    // SELFTEST payload: u32 N, N class bytes, u32 correct, u64 cycles (12 trailer bytes)
    wire [127:0] st_tail = {24'd0, cycles_q, 16'd0, correct_q, 16'd0, n_q};   // N first, then the trailer
    // where the next payload byte is: ti_q indexes st_tail (0..3 N, 4..15 the trailer); between
    // N and the trailer, st_cls_q is set while cleft_q class bytes remain
    reg          st_cls_q;
    reg  [3:0]   ti_q;
    reg  [15:0]  cleft_q;
    wire         st_cls  = selftest_q & st_cls_q;

    // Reply bytes come out of a two-stage pipeline, so no multiplexer path reaches the
    // transmitter or the CRC: stage 1 registers the payload byte of each source at the current
    // position (info_b_q, cls_b_q, st_b_q, crc_b_q) and whether a SELFTEST class byte is ready
    // (ok1_q); stage 2 registers the byte of the frame position (pb_q, ok2_q). After each byte
    // sent the framer moves to the next position a cycle later (fire_q) and waits two more
    // cycles (pw_q; two at the start of a reply) for the pipeline to show it, then offers pb_q.
    reg  [7:0] info_b_q, cls_b_q, st_b_q, crc_b_q, pb_q;
    reg        ok1_q, ok2_q;
    reg  [1:0] pw_q;
    always @(posedge clk) begin
        info_b_q <= info_vec[{tcnt_q, 3'b000} +: 8];
        cls_b_q  <= (tcnt_q == 6'd0) ? {{(8-CLS_W){1'b0}}, eng_class} : sc_byte;
        st_b_q   <= st_cls ? {{(8-CLS_W){1'b0}}, eng_class} : st_tail[{ti_q, 3'b000} +: 8];
        crc_b_q  <= ld_crc[{tcnt_q[1:0], 3'b000} +: 8];   // LOAD_END
        ok1_q    <= ~st_cls | (eng_m_valid & ~eng_m_ready);   // not the result just released
        ok2_q    <= ok1_q;
        case (rp_q)
            P_SYNC:   pb_q <= 8'h5A;
            P_CMD:    pb_q <= cmd_q;
            P_STATUS: pb_q <= status_q;
            P_LEN0:   pb_q <= rlen_q[7:0];
            P_LEN1:   pb_q <= rlen_q[15:8];
            P_PAY:    pb_q <= selftest_q ? st_b_q : (cmd_q == C_INFO) ? info_b_q
                            : (cmd_q == C_CLASSIFY) ? cls_b_q : crc_b_q;
            default:  pb_q <= tx_crc;
        endcase
    end
    // the engine's result is released from a flip-flop (no path from this FSM into the engine):
    // in the cycle after its class byte (SELFTEST) or the reply's last byte (CLASSIFY) was sent.
    // While the release is high the engine still shows the result it releases: the next class
    // byte waits (ok1_q) until the engine shows its next result.
    reg  fire_q;   // a reply byte was sent last cycle (the framer moves on from a flip-flop)
    wire st_cls_sent = (m_q == M_REPLY) & (rp_q == P_PAY) & st_cls & fire_q;

    // reply framer
    wire [7:0]  tx_crc;
    crc8 u_tx_crc (
        .clk(clk), .rst(rst), .clr(rp_q == P_SYNC), .en(tx_fire & (rp_q != P_SYNC) & (rp_q != P_CRC)),
        .data(tx_byte), .crc(tx_crc)
    );
    always @* begin
        tx_byte  = pb_q;
        tx_valid = (m_q == M_REPLY) & (pw_q == 2'd0) & ((rp_q != P_PAY) | ok2_q);
    end

    // test-image block header: "ISIM", version 1, 16 header bytes, count, N_IN pixels, 0
    localparam [127:0] T_HDR = {16'd0, L_PIX, 32'd0, 16'd16, 16'd1, 32'h4D495349};  // count not compared
    wire        t_ok    = ~tbad_q & ~n_big_q & (tbig_q | (n_q <= tcount_q)) & (n_q <= 16'd65519);
    assign fl_addr = fl_test_q ? TEST_ADDR : NET_ADDR;

    task reply(input [7:0] st, input [15:0] len);
        begin
            status_q <= st;
            rlen_q   <= len;
            rleft_q  <= len;
            pw_q     <= 2'd2;
            rp_q     <= P_SYNC;
            tcnt_q   <= 6'd0;
            sc_q     <= 5'd0;
            bs_q     <= 2'd0;
            m_q      <= M_REPLY;
        end
    endtask

    // a frame that fails after its payload was forwarded: undo it (engine reset / loader
    // rewind) and reply st
    task drop(input [7:0] st);
        begin
            if (fwd_q == 2'd1) eng_rst_q <= 1'b1;
            if (fwd_q == 2'd2) ld_rewind <= 1'b1;
            hv_q  <= 1'b0;
            fwd_q <= 2'd0;
            reply(st, 16'd0);
        end
    endtask

    // A received byte is handled in the cycle after the receiver delivers it (rx_valid,
    // rx_data), with its comparisons done in the delivery cycle (bytes come >= 8 bit times
    // apart; the CRC-8 and the length register do not change in between), so no comparator
    // sits in front of the frame FSM's decisions
    reg         rx_valid;
    reg  [7:0]  rx_data;
    reg         rx_sync_q, rx_crc_ok_q, rx_nz_q;
    reg         lf_zero_q, lf_pix_q, lf_48_q, lf_4_q, lf_data_q;   // flags of len_full
    reg         pay_last_q;                                     // cnt_q + 1 == len_q
    wire [15:0] len_next = {ur_data, len_q[7:0]};
    always @(posedge clk) begin
        rx_valid    <= ur_valid & ~rst;
        rx_data     <= ur_data;
        rx_sync_q   <= (ur_data == 8'hA5);
        rx_crc_ok_q <= (ur_data == rx_crc);
        rx_nz_q     <= (ur_data != 8'd0);
        lf_zero_q   <= (len_next == 16'd0);
        lf_pix_q    <= (len_next == L_PIX);
        lf_48_q     <= (len_next == 16'd48);
        lf_4_q      <= (len_next == 16'd4);
        lf_data_q   <= (len_next != 16'd0) & (len_next <= 16'd4096);
        pay_last_q  <= (cnt_q + 16'd1 == len_q);
    end
    wire [15:0] len_full = {rx_data, len_q[7:0]};
    wire        rx_wait  = rx_in_frame | (m_q == M_CRC);
    wire        timeout  = rx_wait & (idle_q == TIMEOUT);

    always @(posedge clk) begin
        fl_start  <= 1'b0;
        fl_stop   <= 1'b0;
        ld_start  <= 1'b0;
        ld_mark   <= 1'b0;
        ld_rewind <= 1'b0;
        ld_cancel <= 1'b0;
        eng_rst_q <= 1'b0;
        eng_m_ready <= st_cls_sent & ~rst;
        if (pw_q != 2'd0) pw_q <= pw_q - 2'd1;
        if (tx_fire) pw_q <= 2'd3;   // the position moves next cycle, the pipeline then needs two
        fire_q <= tx_fire & ~rst;
        net_valid_d <= ld_net_valid;
        if (ld_net_valid & ~net_valid_d) net_crc_q <= ld_crc;
        if (eng_busy) cycles_q <= cycles_q + 40'd1;
        if (hold_take) hv_q <= 1'b0;
        if (rst) begin
            m_q         <= M_BOOT;
            booted_q    <= 1'b0;
            fl_start    <= 1'b1;
            fl_test_q   <= 1'b0;
            fly_q       <= 2'd0;
            ld_start    <= 1'b1;
            hv_q        <= 1'b0;
            fwd_q       <= 2'd0;
            load_open_q <= 1'b0;
            selftest_q  <= 1'b0;
            rp_q        <= P_SYNC;
            cmd_q       <= 8'd0;
            eng_rst_q   <= 1'b1;
            idle_q      <= {TO_W{1'b0}};
        end else begin
            idle_q <= (rx_valid | ~rx_wait) ? {TO_W{1'b0}} : idle_q + 1'b1;
            case (m_q)
                M_BOOT: if (~ld_busy & ~ld_start) begin
                    fl_stop  <= 1'b1;
                    booted_q <= 1'b1;
                    m_q      <= M_SYNC;
                end
                M_SYNC: if (rx_valid & rx_sync_q) begin
                    m_q      <= M_CMD;
                    cmd_q    <= 8'd0;
                    status_q <= ST_OK;
                    fwd_q    <= 2'd0;
                end
                M_CMD: if (timeout) reply(ST_TIMEOUT, 16'd0);
                else if (rx_valid) begin
                    cmd_q <= rx_data;
                    m_q   <= M_LEN0;
                end
                M_LEN0: if (timeout) reply(ST_TIMEOUT, 16'd0);
                else if (rx_valid) begin
                    len_q[7:0] <= rx_data;
                    m_q        <= M_LEN1;
                end
                M_LEN1: if (timeout) reply(ST_TIMEOUT, 16'd0);
                else if (rx_valid) begin
                    len_q <= len_full;
                    cnt_q <= 16'd0;
                    m_q   <= lf_zero_q ? M_CRC : M_PAY;
                    // decide now: everything that needs no payload byte
                    case (cmd_q)
                        C_INFO, C_END: if (~lf_zero_q) status_q <= ST_LENGTH;
                            else if (cmd_q == C_END & ~load_open_q) status_q <= ST_SEQUENCE;
                        C_CLASSIFY: if (~lf_pix_q) status_q <= ST_LENGTH;
                            else if (~ld_net_valid) status_q <= ST_NOT_READY;
                            else begin
                                fwd_q    <= 2'd1;
                                cycles_q <= 40'd0;
                            end
                        C_BEGIN: if (~lf_48_q) status_q <= ST_LENGTH;
                            else begin
                                ld_mark  <= 1'b1;  // saved with the start: a bad frame restores the old network
                                ld_start <= 1'b1;
                                fwd_q    <= 2'd2;
                            end
                        C_DATA: if (~lf_data_q) status_q <= ST_LENGTH;
                            else if (~load_open_q) status_q <= ST_SEQUENCE;
                            else begin
                                ld_mark <= 1'b1;
                                fwd_q   <= 2'd2;
                            end
                        C_SELFTEST: if (~lf_4_q) status_q <= ST_LENGTH;
                            else if (~ld_net_valid) status_q <= ST_NOT_READY;
                        default: status_q <= ST_UNKNOWN;
                    endcase
                end
                M_PAY: if (timeout) drop(ST_TIMEOUT);
                else if (rx_valid) begin
                    if (fwd_q != 2'd0) begin
                        hv_q <= 1'b1;
                        hd_q <= rx_data;
                    end
                    if (cnt_q[15:1] == 15'd0) n_q <= {rx_data, n_q[15:8]};
                    if (cnt_q == 16'd0) n_big_q <= 1'b0;
                    if (cnt_q[15:1] == 15'd1 && rx_nz_q) n_big_q <= 1'b1;
                    cnt_q <= cnt_q + 16'd1;
                    if (pay_last_q) m_q <= M_CRC;
                end
                M_CRC: if (timeout) drop(ST_TIMEOUT);
                else if (rx_valid) begin
                    if (~rx_crc_ok_q) begin
                        drop(ST_CRC8);
                    end else if (status_q != ST_OK) begin
                        reply(status_q, 16'd0);
                    end else begin
                        m_q <= M_EXEC;
                    end
                end
                M_EXEC: if (~hv_q) begin   // a good frame; its last byte has been taken
                    fwd_q <= 2'd0;
                    case (cmd_q)
                        C_INFO: reply(ST_OK, L_INFO);
                        C_CLASSIFY: m_q <= M_CLS;
                        C_BEGIN: begin
                            load_open_q <= (ld_err == 4'd0);
                            reply({4'd0, ld_err}, 16'd0);
                        end
                        C_DATA: begin           // a payload CRC mismatch is LOAD_END's answer
                            if (ld_err == 4'd2) load_open_q <= 1'b0;
                            reply((ld_err == 4'd2) ? ST_LENGTH : ST_OK, 16'd0);
                        end
                        C_END: begin
                            load_open_q <= 1'b0;
                            if (ld_loading) begin           // payload short
                                ld_cancel <= 1'b1;
                                reply(ST_LENGTH, 16'd0);
                            end else if (ld_err != 4'd0) begin
                                reply({4'd0, ld_err}, 16'd0);
                            end else begin
                                reply(ST_OK, 16'd4);
                            end
                        end
                        default: begin          // C_SELFTEST: the test block header first
                            fl_start <= 1'b1;
                            fl_test_q <= 1'b1;
                            th_q     <= 5'd0;
                            tbad_q   <= 1'b0;
                            tbig_q   <= 1'b0;
                            m_q      <= M_THDR;
                        end
                    endcase
                end
                M_CLS: if (eng_m_valid) reply(ST_OK, L_CLS);
                M_THDR: begin
                    if (fl_take) begin
                        th_q <= th_q + 5'd1;
                        if ((th_q[3:2] != 2'd2) && fl_data != T_HDR[{th_q[3:0], 3'b000} +: 8]) tbad_q <= 1'b1;
                        if (th_q == 5'd8) tcount_q[7:0] <= fl_data;
                        if (th_q == 5'd9) tcount_q[15:8] <= fl_data;
                        if ((th_q == 5'd10 || th_q == 5'd11) && fl_data != 8'd0) tbig_q <= 1'b1;
                    end
                    if (th_q == 5'd16) begin
                        if (t_ok) begin
                            selftest_q <= 1'b1;
                            rs_q       <= R_LABEL;    // the records follow the header
                            issued_q   <= 16'd0;
                            done_q     <= 16'd0;
                            correct_q  <= 16'd0;
                            cycles_q   <= 40'd0;
                            st_cls_q   <= 1'b0;
                            ti_q       <= 4'd0;
                            cleft_q    <= n_q;
                            reply(ST_OK, n_q + 16'd16);
                        end else begin
                            fl_stop <= 1'b1;
                            reply(ST_RANGE, 16'd0);
                        end
                    end
                end
                M_REPLY: if (fire_q) begin   // the byte sent last cycle: move to the next position
                    case (rp_q)
                        P_SYNC:   rp_q <= P_CMD;
                        P_CMD:    rp_q <= P_STATUS;
                        P_STATUS: rp_q <= P_LEN0;
                        P_LEN0:   rp_q <= P_LEN1;
                        P_LEN1:   rp_q <= (rlen_q == 16'd0) ? P_CRC : P_PAY;
                        P_PAY: begin
                            if (tcnt_q != 6'h3F) tcnt_q <= tcnt_q + 6'd1;
                            rleft_q <= rleft_q - 16'd1;
                            if (rleft_q == 16'd1) rp_q <= P_CRC;
                            if (~st_cls_q) begin                // SELFTEST: N and trailer bytes
                                ti_q <= ti_q + 4'd1;
                                if ((ti_q == 4'd3) & (cleft_q != 16'd0)) st_cls_q <= 1'b1;
                            end else begin                      // SELFTEST: class bytes
                                cleft_q <= cleft_q - 16'd1;
                                if (cleft_q == 16'd1) st_cls_q <= 1'b0;
                            end
                            if (tcnt_q != 6'd0) begin           // CLASSIFY: next score byte
                                bs_q <= bs_q + 2'd1;
                                if (bs_q == 2'd3) sc_q <= sc_q + 5'd1;
                            end
                            if (st_cls) begin
                                done_q <= done_q + 16'd1;
                                if ({{(8-CLS_W){1'b0}}, eng_class} == (done_q[0] ? lab1_q : lab0_q))
                                    correct_q <= correct_q + 16'd1;
                            end
                        end
                        default: begin
                            m_q <= M_DONE;
                            if (cmd_q == C_CLASSIFY && status_q == ST_OK) eng_m_ready <= 1'b1;
                        end
                    endcase
                end
                default: begin          // M_DONE: the last byte leaves; listen again
                    if (selftest_q) fl_stop <= 1'b1;
                    selftest_q <= 1'b0;
                    m_q        <= M_SYNC;
                end
            endcase
            // SELFTEST record stream (while the reply is sent); fly_q: records in the engine
            fly_q <= fly_q + {1'b0, st_stream & fl_take & (rs_q == R_LABEL)}
                           - {1'b0, st_cls_sent};
            if (st_stream & fl_take) begin
                case (rs_q)
                    R_LABEL: begin
                        if (issued_q[0]) lab1_q <= fl_data;
                        else lab0_q <= fl_data;
                        issued_q <= issued_q + 16'd1;
                        pix_q    <= 11'd0;
                        rs_q     <= R_PIX;
                    end
                    R_PIX: begin
                        pix_q <= pix_q + 11'd1;
                        if (pix_q == PIX_LAST) rs_q <= (issued_q == n_q) ? R_END : R_LABEL;
                    end
                    default: ;
                endcase
            end
            if (selftest_q & (rs_q == R_LABEL) & (issued_q == n_q)) rs_q <= R_END;
        end
    end

endmodule

`default_nettype wire
