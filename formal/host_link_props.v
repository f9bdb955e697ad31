// Properties of host_link (the board's UART protocol, docs/board.md) at N_IN = 2, N_OUT = 2,
// with the UART replaced by a free byte source (formal/uart_free.v) and every other port of the
// link (flash reader, loader, engine) free: the properties hold whatever those blocks do.
//
// A shadow parser (the frame format of docs/board.md, with its own CRC-8/SMBUS) follows the
// bytes the link receives while it listens. Properties:
//   P1 only a good frame executes: M_EXEC, M_CLS, M_THDR and the SELFTEST stream are reached
//      only after a frame with a known command, the right length for it and the right CRC-8;
//   P2 a frame left without executing (bad CRC-8, timeout, bad length, unknown command, not
//      ready) is answered with a non-zero status;
//   P3 pixels reach the engine only from the payload of a CLASSIFY frame of length N_IN (at
//      most N_IN of them) or from the SELFTEST stream of a good SELFTEST frame; the engine is
//      reset right after a frame that forwarded pixels is dropped, and gets no pixel after;
//   P4 bytes reach the loader only at boot or from a LOAD_BEGIN/LOAD_DATA frame of a good
//      length; a dropped LOAD frame that touched the loader rewinds it;
//   P5 after a dropped or refused frame the link only sends its 6-byte reply and then listens
//      again; a reply byte is offered at most two cycles after the previous one left.
// f_* inputs are registers of the link, connected by the .sby script.
`default_nettype none

module host_link_props (
    input wire         clk,
    input wire         rst,
    input wire         rx,
    input wire         fl_valid,
    input wire [7:0]   fl_data,
    input wire         ld_ready,
    input wire         ld_busy,
    input wire         ld_loading,
    input wire         ld_net_valid,
    input wire [3:0]   ld_err,
    input wire [31:0]  ld_crc,
    input wire [383:0] ld_header,
    input wire         eng_ready,
    input wire         eng_m_valid,
    input wire         eng_class,
    input wire [5:0]   eng_scores,
    input wire         eng_busy
);
    localparam N_IN = 2, N_OUT = 2, SCORE_W = 3;
    wire        tx, fl_start, fl_stop, fl_ready, ld_start, ld_valid, ld_mark, ld_rewind, ld_cancel;
    wire        eng_rst, eng_valid, eng_m_ready;
    wire [23:0] fl_addr;
    wire [7:0]  ld_data, eng_data;
    wire [1:0]  state;

    host_link #(
        .CLK_HZ(8000), .BAUD(1000), .N_IN(N_IN), .N_OUT(N_OUT), .SCORE_W(SCORE_W)
    ) dut (
        .clk(clk), .rst(rst), .rx(rx), .tx(tx),
        .fl_start(fl_start), .fl_addr(fl_addr), .fl_stop(fl_stop),
        .fl_valid(fl_valid), .fl_ready(fl_ready), .fl_data(fl_data),
        .ld_start(ld_start), .ld_valid(ld_valid), .ld_ready(ld_ready), .ld_data(ld_data),
        .ld_mark(ld_mark), .ld_rewind(ld_rewind), .ld_cancel(ld_cancel),
        .ld_busy(ld_busy), .ld_loading(ld_loading), .ld_net_valid(ld_net_valid), .ld_err(ld_err),
        .ld_crc(ld_crc), .ld_header(ld_header),
        .eng_rst(eng_rst), .eng_valid(eng_valid), .eng_ready(eng_ready), .eng_data(eng_data),
        .eng_m_valid(eng_m_valid), .eng_m_ready(eng_m_ready), .eng_class(eng_class),
        .eng_scores(eng_scores), .eng_busy(eng_busy),
        .state(state)
    );

`ifdef FORMAL
    wire [3:0] f_m;         // dut.m_q
    wire       f_rx_valid;  // dut.rx_valid
    wire [7:0] f_rx_data;   // dut.rx_data
    wire [7:0] f_status;    // dut.status_q
    wire       f_selftest;  // dut.selftest_q
    wire       f_tx_fire;   // dut.tx_fire
    wire       f_tx_valid;  // dut.tx_valid
    wire [1:0] f_pw;        // dut.pw_q
`ifdef HOST_LINK_INDUCTION  // registers only the induction invariants read (prove task)
    wire [7:0] f_cmd_q;     // dut.cmd_q
    wire [15:0] f_len_q;    // dut.len_q
    wire [15:0] f_cnt_q;    // dut.cnt_q
    wire [7:0] f_rx_crc;    // dut.rx_crc
    wire       f_hv;        // dut.hv_q
    wire [1:0] f_fwd;       // dut.fwd_q
    wire [2:0] f_rp;        // dut.rp_q
    wire [15:0] f_rlen;     // dut.rlen_q
    wire [3:0] f_idle_q;    // dut.idle_q
    wire       f_ur_valid;  // dut.ur_valid (the receiver's delivery, a cycle before rx_valid)
    wire [3:0] f_gap;       // dut.u_rx.gap_q
    wire       f_fire_q;    // dut.fire_q
    wire       f_crc_ok, f_sync_q, f_lf_zero, f_lf_pix, f_lf_48, f_lf_4, f_lf_data, f_pay_last;
    wire [15:0] f_len_dut = {f_rx_data, f_len_q[7:0]};   // the link's len_full
`endif

    localparam [3:0] M_BOOT = 4'd0, M_SYNC = 4'd1, M_CMD = 4'd2, M_LEN0 = 4'd3, M_LEN1 = 4'd4,
                     M_PAY = 4'd5, M_CRC = 4'd6, M_EXEC = 4'd7, M_CLS = 4'd8, M_THDR = 4'd9,
                     M_REPLY = 4'd10, M_DONE = 4'd11;

    // CRC-8/SMBUS, one byte (poly 0x07, MSB first)
    function [7:0] crc8_step(input [7:0] c, input [7:0] d);
        integer i;
        reg [7:0] x;
        begin
            x = c ^ d;
            for (i = 0; i < 8; i = i + 1) x = x[7] ? ({x[6:0], 1'b0} ^ 8'h07) : {x[6:0], 1'b0};
            crc8_step = x;
        end
    endfunction

    reg f_init = 1'b0;
    always @(posedge clk) f_init <= 1'b1;
    always @(*) if (~f_init) assume (rst);

    wire f_rx_state = (f_m == M_CMD) | (f_m == M_LEN0) | (f_m == M_LEN1) | (f_m == M_PAY) | (f_m == M_CRC);

    // ---------------------------------------------------------------- shadow frame parser
    reg        f_act;       // a frame is being received
    reg [2:0]  f_pos;       // next byte: 0 cmd, 1 len low, 2 len high, 3 payload, 4 CRC-8
    reg [7:0]  f_cmd, f_crc;
    reg [15:0] f_len, f_cnt;
    reg        f_good;      // the last frame received whole was good (cleared at each sync)
    reg [1:0]  f_pix;       // pixels given to the engine in this frame (saturating)
    reg        f_pix_over;  // more than N_IN of them
    reg        f_ld;        // the loader was started or given a byte in this frame
    reg        f_rej;       // the frame was left without executing: replying, then listening
    reg [3:0]  f_rej_sent;  // reply bytes sent since then
    reg [3:0]  f_idle;      // cycles since the frame's last byte; at 8 (1 ms at 8 kHz) it is dropped

    wire [15:0] f_len_full = {f_rx_data, f_len[7:0]};
    wire f_len_ok = ((f_cmd == 8'h01) | (f_cmd == 8'h05)) ? (f_len == 16'd0)
                  : (f_cmd == 8'h02) ? (f_len == N_IN)
                  : (f_cmd == 8'h03) ? (f_len == 16'd48)
                  : (f_cmd == 8'h04) ? ((f_len != 16'd0) & (f_len <= 16'd4096))
                  : (f_cmd == 8'h06) ? (f_len == 16'd4)
                  : 1'b0;
    wire f_pix_fire = eng_valid & eng_ready;
    wire f_ld_touch = (f_m != M_BOOT) & (ld_start | (ld_valid & ld_ready));
    wire f_sync = (f_m == M_SYNC) & f_rx_valid & (f_rx_data == 8'hA5);

    always @(posedge clk) begin
        if (f_pix_fire) begin
            if (f_pix == 2'd2) f_pix_over <= 1'b1;
            else f_pix <= f_pix + 2'd1;
        end
        if (f_ld_touch) f_ld <= 1'b1;
        if (f_rej & f_tx_fire & (f_rej_sent != 4'hF)) f_rej_sent <= f_rej_sent + 4'd1;
        if (f_m == M_SYNC) f_rej <= 1'b0;
        if (rst) begin
            f_act <= 1'b0;
            f_good <= 1'b0;
            f_rej <= 1'b0;
            f_pix <= 2'd0;
            f_pix_over <= 1'b0;
            f_ld <= 1'b0;
        end else if (f_sync) begin
            f_act <= 1'b1;
            f_pos <= 3'd0;
            f_crc <= 8'd0;
            f_cnt <= 16'd0;
            f_idle <= 4'd0;
            f_good <= 1'b0;
            f_pix <= 2'd0;
            f_pix_over <= 1'b0;
            f_ld <= 1'b0;
        end else if (f_act & (f_idle == 4'd8)) begin
            // the next byte did not come in time: dropped
            f_act <= 1'b0;
            f_rej <= 1'b1;
            f_rej_sent <= 4'd0;
        end else if (f_act & ~f_rx_valid) begin
            f_idle <= f_idle + 4'd1;
        end else if (f_act & f_rx_valid) begin
            f_idle <= 4'd0;
            if (f_pos != 3'd4) f_crc <= crc8_step(f_crc, f_rx_data);
            case (f_pos)
                3'd0: begin f_cmd <= f_rx_data; f_pos <= 3'd1; end
                3'd1: begin f_len[7:0] <= f_rx_data; f_pos <= 3'd2; end
                3'd2: begin
                    f_len <= f_len_full;
                    f_pos <= (f_len_full == 16'd0) ? 3'd4 : 3'd3;
                end
                3'd3: begin
                    f_cnt <= f_cnt + 16'd1;
                    if (f_cnt + 16'd1 == f_len) f_pos <= 3'd4;
                end
                default: begin
                    f_act  <= 1'b0;
                    f_good <= (f_rx_data == f_crc) & f_len_ok;
                    // refused at once (bad CRC-8 or a status decided at the length)
                    if (~((f_rx_data == f_crc) & (f_status == 8'd0))) begin
                        f_rej <= 1'b1;
                        f_rej_sent <= 4'd0;
                    end
                end
            endcase
        end
    end

`ifdef HOST_LINK_INDUCTION
    // the shadow and the link agree on the frame (invariants for the induction; the mutant
    // tasks check the properties below without them)
    always @(*) if (f_init & ~rst) begin
        if (f_act) begin
            assert (f_rx_state);
            assert (f_rx_crc == f_crc);
            assert ((f_idle_q == f_idle) & (f_idle <= 4'd8));
            if (f_pos >= 3'd1) assert (f_cmd_q == f_cmd);
            if (f_pos >= 3'd2) assert (f_len_q[7:0] == f_len[7:0]);
            if (f_pos >= 3'd3) assert (f_len_q == f_len);
            if (f_pos == 3'd3) assert (f_len != 16'd0);
            if (f_pos == 3'd3) assert ((f_cnt_q == f_cnt) & (f_cnt < f_len));
            if (f_pos < 3'd3) assert ((f_cnt == 16'd0) & (f_status == 8'd0));
            if (f_pos == 3'd4) assert (f_cnt == f_len);
            if (f_pos < 3'd3) assert ((f_fwd == 2'd0) & ~f_hv & (f_pix == 2'd0) & ~f_pix_over & ~f_ld);
            if ((f_pos >= 3'd3) & ~f_len_ok) assert (f_status != 8'd0);
            assert ((f_pos == 3'd0) == (f_m == M_CMD));
            assert ((f_pos == 3'd1) == (f_m == M_LEN0));
            assert ((f_pos == 3'd2) == (f_m == M_LEN1));
            assert ((f_pos == 3'd3) == (f_m == M_PAY));
            assert ((f_pos == 3'd4) == (f_m == M_CRC));
        end
        else assert (~f_rx_state);
        // the comparisons made in the delivery cycle still hold when the byte is handled
        assert (~(f_ur_valid & f_rx_valid) & (f_gap <= 4'd2));
        assert ((f_gap == 4'd2) == f_ur_valid);
        assert ((f_gap == 4'd1) == f_rx_valid);
        if (f_rx_valid) begin
            assert (f_gap == 4'd1);
            assert (f_sync_q == (f_rx_data == 8'hA5));
            if (f_m == M_CRC) assert (f_crc_ok == (f_rx_data == f_rx_crc));
            assert (f_lf_zero == (f_len_dut == 16'd0));
            assert (f_lf_pix == (f_len_dut == N_IN));
            assert (f_lf_48 == (f_len_dut == 16'd48));
            assert (f_lf_4 == (f_len_dut == 16'd4));
            assert (f_lf_data == ((f_len_dut != 16'd0) & (f_len_dut <= 16'd4096)));
            if (f_m == M_PAY) assert (f_pay_last == (f_cnt_q + 16'd1 == f_len_q));
        end
        assert (f_rp != 3'd7);
        if (f_fire_q) assert ((f_m == M_REPLY) & (f_pw == 2'd3));
        assert (f_fwd != 2'd3);
        if (f_fwd != 2'd0) assert (f_status == 8'd0);
        assert (f_m <= M_DONE);
        if (f_m == M_BOOT) assert (~f_act & ~f_rej & (f_fwd == 2'd0) & ~f_hv);
        if (f_hv) assert (f_fwd != 2'd0);
        if (f_pix_over) assert (f_pix == 2'd2);
        if (f_fwd != 2'd0) assert ((f_act & (f_pos >= 3'd3)) | ((f_m == M_EXEC) & f_good));
        if (f_m == M_EXEC) assert ((f_cmd_q == f_cmd) & (f_cnt == f_len));
        if (f_fwd == 2'd1) assert ((f_cmd == 8'h02) & (f_len == N_IN) & ~f_ld);
        if (f_fwd == 2'd2) assert (((f_cmd == 8'h03) | (f_cmd == 8'h04)) & f_len_ok & (f_pix == 2'd0));
        if ((f_fwd != 2'd0) & (f_cmd == 8'h02)) assert ({14'd0, f_pix} + {15'd0, f_hv} <= f_cnt);
        if (f_act & (f_pix != 2'd0)) assert (f_fwd == 2'd1);
        if (f_act & f_ld) assert (f_fwd == 2'd2);
        if (f_selftest) assert (((f_m == M_REPLY) | (f_m == M_DONE)) & f_good & (f_cmd == 8'h06) & ~f_rej);
        if ((f_m == M_CLS) | (f_m == M_THDR)) assert (f_good & ~f_rej & (f_cmd_q == f_cmd));
        if (f_rej) begin
            assert ((f_m == M_REPLY) | (f_m == M_DONE) | (f_m == M_SYNC));
            assert (~f_act & (f_fwd == 2'd0) & ~f_hv & ~f_selftest);
            if (f_m == M_REPLY) assert ((f_rlen == 16'd0) & (f_rp != 3'd5) & (f_status != 8'd0)
                                        & (f_rej_sent == ((f_rp == 3'd6) ? 4'd5 : {1'b0, f_rp}) + {3'd0, f_fire_q}));
            if (f_m != M_REPLY) assert (f_rej_sent == 4'd6);
        end
    end
`endif

    always @(*) if (f_init & ~rst) begin
        // P1: only a good frame executes
        if (f_m == M_EXEC | f_m == M_CLS | f_m == M_THDR) assert (f_good & ~f_rej);
        if (f_m == M_CLS) assert (f_cmd == 8'h02);
        if (f_m == M_THDR | f_selftest) assert (f_good & (f_cmd == 8'h06));
        // P3: pixels only from a CLASSIFY payload of length N_IN or a good SELFTEST's stream
        if (eng_valid)
            assert (((f_cmd == 8'h02) & (f_len == N_IN) & ((f_act & (f_pos >= 3'd3)) | ((f_m == M_EXEC) & f_good)))
                    | (f_selftest & f_good & (f_cmd == 8'h06)));
        if (f_cmd == 8'h02) assert (~f_pix_over);
        // P4: the loader gets bytes only at boot or from a LOAD_BEGIN/LOAD_DATA frame of a
        // good length, and a dropped LOAD frame that touched it rewinds it
        if (ld_valid & (f_m != M_BOOT))
            assert (((f_cmd == 8'h03) | (f_cmd == 8'h04)) & f_len_ok & ((f_act & (f_pos >= 3'd3)) | ((f_m == M_EXEC) & f_good)));
        // P5: after a refusal only the reply (6 bytes), then listening; while replying, a byte
        // is offered to the transmitter two cycles after the last one left at the latest
        if (f_rej) begin
            assert ((f_m == M_REPLY) | (f_m == M_DONE) | (f_m == M_SYNC));
            assert (f_rej_sent <= 4'd6);
        end
        if ((f_m == M_REPLY) & (f_pw == 2'd0) & (f_rp != 3'd5)) assert (f_tx_valid);
    end
    always @(posedge clk) if (f_init & ~rst & ~$past(rst)) begin
        // P2: a frame left without executing is answered with an error status
        if ($past(f_rx_state) & (f_m == M_REPLY)) assert (f_status != 8'd0);
        // P3: a dropped frame that forwarded pixels resets the engine
        if ($past(f_rx_state) & (f_m == M_REPLY) & (f_pix != 2'd0)) assert (eng_rst);
        // P4: a dropped LOAD frame that touched the loader rewinds it
        if ($past(f_rx_state) & (f_m == M_REPLY) & f_ld) assert (ld_rewind);
    end

    // reachable: a CLASSIFY executed, a SELFTEST reading its test header, a dropped CLASSIFY after pixels,
    // a refused frame answered and the link listening again
    always @(posedge clk) if (f_init & ~rst) begin
        cover (f_m == M_CLS);
        cover (f_m == M_THDR);
        cover ($past(f_rx_state) & (f_m == M_REPLY) & (f_pix != 2'd0));
        cover ($past(f_rej) & (f_m == M_SYNC));
    end
`endif

endmodule

`default_nettype wire
