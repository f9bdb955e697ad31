// Properties of snn_engine's control at tiny parameters (2-2-2 network, T = 1, LANES = 2 with
// one LIF lane: one group of two neurons, a 2-entry event FIFO): the result handshake
// (m_valid, m_class and m_scores stay until m_ready), s_ready = FIFO not full, FIFO count,
// pointer and flag consistency, no image lost or duplicated (images in = results out + images
// in flight), state and counter ranges, rounds (the FIFO is read only in a round that
// accumulates; the replayed image is released only in the last group's pass) and the
// accumulator-clear invariant (every accumulator is 0 while the engine is idle, so no image
// sees another's currents). f_* are the engine's registers, connected by snn_engine.sby.
`default_nettype none

module snn_engine_props #(
    parameter N_IN  = 2,
    parameter N_HID = 2,
    parameter N_OUT = 2,
    parameter T     = 1
) (
    input wire        clk,
    input wire        rst,
    input wire        s_valid,
    input wire [7:0]  s_data,
    input wire        m_ready,
    input wire        w_we,
    input wire        w_addr,
    input wire [63:0] w_data
);
    localparam CODE_W0 = 2, ACC_W = 11, MEM_W = 6, SCORE_W = 3, FIFO_DEPTH = 2, LANES = 2;
    localparam CLS_W = (N_OUT > 2) ? $clog2(N_OUT) : 1;
    wire                     s_ready, m_valid, busy, trace_valid;
    wire [CLS_W-1:0]         m_class;
    wire [N_OUT*SCORE_W-1:0] m_scores;
    wire [7:0]               trace_t;
    wire [0:0]               trace_n;
    wire [0:0]               trace_spike;
    wire [MEM_W-1:0]         trace_v;

    snn_engine #(
        .N_IN(N_IN), .N_HID(N_HID), .N_OUT(N_OUT), .T(T), .CODE_W0(CODE_W0), .CODE_W1(2),
        .ACC_W(ACC_W), .MEM_W(MEM_W), .SCORE_W(SCORE_W), .THRESHOLD(64'd5), .LEAK_SHIFT(1),
        .RESET_SUBTRACT(1), .LANES(LANES), .P_LIF(1), .FIFO_DEPTH(FIFO_DEPTH), .W0_SPRAM(0)
    ) dut (
        .clk(clk), .rst(rst), .s_valid(s_valid), .s_ready(s_ready), .s_data(s_data),
        .m_valid(m_valid), .m_ready(m_ready), .m_class(m_class), .m_scores(m_scores),
        .w_we(w_we), .w_addr(w_addr), .w_data(w_data),
        .w1_we(1'b0), .w1_addr(1'b0), .w1_data(4'd0), .b_we(1'b0), .b_addr(2'd0), .b_data(64'd0),
        .busy(busy),
        .trace_valid(trace_valid), .trace_t(trace_t), .trace_n(trace_n),
        .trace_spike(trace_spike), .trace_v(trace_v)
    );

`ifdef FORMAL
    wire [1:0]       f_state;     // dut.state_q
    wire [1:0]       f_cnt;       // dut.u_fifo.cnt_q
    wire             f_nf;        // dut.u_fifo.nf_q
    wire             f_we_q;      // dut.u_fifo.we_q (an accepted entry is written this cycle)
    wire [9:0]       f_wdata;     // dut.u_fifo.wdata_q ({last, pixel, index})
    wire [1:0]       f_img_cnt;   // dut.u_fifo.img_cnt_q
    wire             f_img_ne;    // dut.u_fifo.img_ne_q
    wire             f_img_in;    // dut.u_fifo.img_in_q
    wire             f_pix_last;  // dut.u_fifo.pix_last_q
    wire             f_rd;        // dut.rd_q
    wire             f_acc_on;    // dut.acc_on_q
    wire             f_acc_done;  // dut.acc_done_q
    wire             f_lif_run;   // dut.lif_run_q
    wire             f_lif_done;  // dut.lif_done_q
    wire [7:0]       f_t;         // dut.t_q
    wire [1:0]       f_tcnt;      // dut.cnt_q
    wire [1:0]       f_ostate;    // dut.u_out.state_q
    wire             f_arg;       // dut.u_out.arg_q
    wire [ACC_W-1:0] f_acc0;      // dut.u_accum.g_lane[0].acc_q (hidden neuron 0)
    wire [ACC_W-1:0] f_acc1;      // dut.u_accum.g_lane[1].acc_q (hidden neuron 1)

    localparam [1:0] S_IDLE = 2'd0, S_RUN = 2'd1, S_TAIL = 2'd2, S_OUT = 2'd3;
    localparam [1:0] A_IDLE = 2'd0, A_ARG = 2'd1, A_OUT = 2'd2;

    reg f_init = 1'b0;
    always @(posedge clk) f_init <= 1'b1;
    always @(*) if (!f_init) assume (rst);

    // images in minus results out (an image is in when its last pixel is accepted)
    wire s_fire  = s_valid & s_ready;
    wire img_acc = s_fire & f_pix_last;
    wire res_out = m_valid & m_ready;
    reg  [3:0] f_diff;
    always @(posedge clk)
        if (rst) f_diff <= 4'd0;
        else f_diff <= f_diff + {3'd0, img_acc} - {3'd0, res_out};
    // the engine holds an image whose entries have left the FIFO: after the release pass
    // (one group here: the accumulating round once its reads have stopped), or later
    wire released = (f_state == S_TAIL) || (f_state == S_OUT)
                 || (f_state == S_RUN && (!f_acc_on || !f_rd));
    wire [3:0] in_flight = {2'b00, f_img_cnt} + {3'd0, f_img_in} + {3'd0, f_we_q & f_wdata[9]}
                         + {3'd0, released} + {3'd0, m_valid};

    always @(*)
        if (f_init && !rst) begin
            // FIFO
            assert (f_cnt <= FIFO_DEPTH);
            assert (s_ready == f_nf);
            assert (f_cnt + f_we_q <= FIFO_DEPTH);
            // not full: never while full (no overflow), always below one short of full (the
            // flag may drop a cycle early for an accepted zero pixel, never stays down)
            assert (!f_nf || (f_cnt + f_we_q < FIFO_DEPTH));
            assert (f_nf || (f_cnt + f_we_q >= FIFO_DEPTH - 1));
            assert (f_img_ne == (f_img_cnt != 2'd0));
            assert (f_img_cnt + f_img_in <= f_cnt);
            // no image lost or duplicated
            assert (f_diff == in_flight);
            // rounds: reads only while accumulating; the LIF steps only after a group is held
            if (f_rd) assert (f_state == S_RUN && f_acc_on && !f_acc_done);
            if (f_state != S_RUN) assert (!f_rd && !f_lif_run);
            if (f_lif_run) assert (!f_lif_done && !f_acc_on);  // one group: LIF in round 1
            if (f_state == S_RUN && f_acc_on) assert (f_lif_done);
            // ranges
            assert (f_t < T || !f_lif_run);
            assert (f_arg < N_OUT);
            assert (f_ostate <= A_OUT);
            if (f_state == S_TAIL) assert (f_tcnt <= 2'd2);
            if (f_ostate != A_IDLE) assert (f_state == S_OUT);
            // accumulator-clear invariant
            if (f_state == S_IDLE) begin
                assert (f_acc0 == {ACC_W{1'b0}});
                assert (f_acc1 == {ACC_W{1'b0}});
            end
            // busy: computing, and not parked behind an unread result
            assert (busy == ((f_state == S_RUN) || (f_state == S_TAIL) || (f_ostate == A_ARG)
                             || (f_ostate == A_OUT && (!m_valid || m_ready))));
        end
    always @(posedge clk)
        if (f_init && !$past(rst) && !rst) begin
            // a waiting result stays, unchanged, until m_ready
            if ($past(m_valid && !m_ready))
                assert (m_valid && m_class == $past(m_class) && m_scores == $past(m_scores));
        end
    always @(posedge clk)
        if (f_init && $past(rst)) assert (!m_valid && f_state == S_IDLE && f_cnt == 2'd0);

    always @(posedge clk) begin
        cover (f_init && !rst && res_out);                          // a result leaves
        cover (f_init && !rst && m_valid && !m_ready && !s_ready);  // a result waits, input refused
        cover (f_init && !rst && f_diff == 4'd3);                   // three images in flight
    end
`endif
endmodule

`default_nettype wire
