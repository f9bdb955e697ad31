// Properties of snn_engine's control at tiny parameters (N_IN = 2, a 2-entry event FIFO, one
// LIF lane, ternary codes; N_HID, N_OUT, T, LANES and a second hidden layer N_H1 set per task
// by snn_engine.sby): the result handshake (m_valid, m_class and m_scores stay until m_ready),
// s_ready = FIFO not full, FIFO count and flag bounds, no image lost or duplicated (images in =
// results out + images in flight), rounds (the FIFO is read only in a layer-0 round that
// accumulates; the replayed image is released only in the last group's pass; the LIF steps of
// a group only in the round after its accumulation), state and counter ranges, the
// accumulator-clear invariant (every accumulator is 0 while the engine is idle, so no image sees
// another's currents), busy and reset.
//
// Under ENGINE_INDUCTION: the strengthening invariants that make these properties inductive
// (k-induction at depth 2). They relate the control FSM to the layer, group and step counters,
// to the event FIFO's pointers, counts and RAM words (which entries are first or last pixels of
// an image), to the accumulation pipeline (one "last event" token per accumulating round) and,
// with two hidden layers, to the raster scan and the later layers' read stage. No abstraction:
// the whole engine is in the model (weights, membranes and scores are unconstrained memories and
// registers, so every value they can take is covered). f_* are the engine's registers,
// connected by snn_engine.sby.
`default_nettype none

module snn_engine_props #(
    parameter N_IN     = 2,
    parameter N_HID    = 2,
    parameter N_OUT    = 2,
    parameter T        = 1,
    parameter LANES    = 2,
    parameter N_LAYERS = 1,   // 2: a second hidden layer of N_H1 neurons (spike raster)
    parameter N_H1     = 4,
    // derived
    parameter W0_AW = ((N_IN * ((N_HID + 31) / 32) + ((N_LAYERS > 1) ? N_HID * ((N_H1 + 31) / 32) : 0)) > 2)
                    ? $clog2(N_IN * ((N_HID + 31) / 32) + ((N_LAYERS > 1) ? N_HID * ((N_H1 + 31) / 32) : 0)) : 1
) (
    input wire        clk,
    input wire        rst,
    input wire        s_valid,
    input wire [7:0]  s_data,
    input wire        m_ready,
    input wire        w_we,
    input wire [W0_AW-1:0] w_addr,
    input wire [63:0] w_data
);
    localparam CODE_W0 = 2, ACC_W = 11, MEM_W = 6, SCORE_W = 3, FIFO_DEPTH = 2;
    localparam DEEP   = (N_LAYERS > 1);
    localparam CLS_W  = (N_OUT > 2) ? $clog2(N_OUT) : 1;
    localparam N_HMAX = (DEEP && N_H1 > N_HID) ? N_H1 : N_HID;
    localparam HID_AW = (N_HMAX > 2) ? $clog2(N_HMAX) : 1;
    localparam NG     = N_HID / LANES;                 // groups of LANES hidden neurons (layer 0)
    localparam NG1    = DEEP ? N_H1 / LANES : 1;       // ... of layer 1
    localparam GRP    = LANES;                         // LIF beats per group and step (P_LIF = 1)
    localparam GRP_AW = (GRP > 2) ? $clog2(GRP) : 1;
    localparam integer NG_LAST = NG - 1, NG1_LAST = NG1 - 1, GRP_LAST = GRP - 1;
    localparam [47:0]  N_HID_L = DEEP ? N_H1 : 0;
    wire                     s_ready, m_valid, busy, trace_valid;
    wire [CLS_W-1:0]         m_class;
    wire [N_OUT*SCORE_W-1:0] m_scores;
    wire [7:0]               trace_t;
    wire [HID_AW-1:0]        trace_n;
    wire [0:0]               trace_spike;
    wire [MEM_W-1:0]         trace_v;
    wire [1:0]               trace_layer;

    snn_engine #(
        .N_IN(N_IN), .N_HID(N_HID), .N_OUT(N_OUT), .T(T), .CODE_W0(CODE_W0), .CODE_W1(2),
        .ACC_W(ACC_W), .MEM_W(MEM_W), .SCORE_W(SCORE_W), .THRESHOLD(64'd5), .LEAK_SHIFT(1),
        .RESET_SUBTRACT(1), .LANES(LANES), .P_LIF(1), .FIFO_DEPTH(FIFO_DEPTH), .W0_SPRAM(0),
        .N_LAYERS(N_LAYERS), .N_HID_L(N_HID_L), .ACC_W_L(24'd11), .MEM_W_L(24'd6),
        .THRESHOLD_L(192'd5), .LEAK_SHIFT_L(24'd1), .RESET_SUBTRACT_L(3'd1)
    ) dut (
        .clk(clk), .rst(rst), .s_valid(s_valid), .s_ready(s_ready), .s_data(s_data),
        .m_valid(m_valid), .m_ready(m_ready), .m_class(m_class), .m_scores(m_scores),
        .w_we(w_we), .w_addr(w_addr), .w_data(w_data),
        .w1_we(1'b0), .w1_addr({HID_AW{1'b0}}), .w1_data({(N_OUT*2){1'b0}}), .b_we(1'b0), .b_addr(3'd0), .b_data(64'd0),
        .busy(busy),
        .trace_valid(trace_valid), .trace_t(trace_t), .trace_n(trace_n),
        .trace_spike(trace_spike), .trace_v(trace_v), .trace_layer(trace_layer)
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
    wire             f_g_last;    // dut.g_last_q (the group accumulated is the last: release pass)
    wire [0:0]       f_g;         // dut.g_q (at most two groups per layer here)
    wire             f_deep;      // dut.deep_q (a hidden layer after the first: events from the raster)
    wire [7:0]       f_at;        // dut.at_q (layers 1..: the step being accumulated)
    wire             f_acc_done;  // dut.acc_done_q
    wire             f_lif_run;   // dut.lif_run_q
    wire             f_lif_done;  // dut.lif_done_q
    wire [7:0]       f_t;         // dut.t_q
    wire [1:0]       f_tcnt;      // dut.cnt_q
    wire [1:0]       f_ostate;    // dut.u_out.state_q
    wire [CLS_W-1:0] f_arg;       // dut.u_out.arg_q
    wire [ACC_W-1:0] f_acc0;      // dut.u_accum.g_lane[0].acc_q (hidden neuron 0)
    wire [ACC_W-1:0] f_acc1;      // dut.u_accum.g_lane[1].acc_q (hidden neuron 1)
    wire [ACC_W-1:0] f_acc2;      // dut.u_accum.g_lane[2].acc_q (LANES = 4)
    wire [ACC_W-1:0] f_acc3;      // dut.u_accum.g_lane[3].acc_q (LANES = 4)
    wire accs_zero = f_acc0 == {ACC_W{1'b0}} && f_acc1 == {ACC_W{1'b0}}
                  && (LANES < 4 || (f_acc2 == {ACC_W{1'b0}} && f_acc3 == {ACC_W{1'b0}}));

`ifdef ENGINE_INDUCTION
    // registers the induction invariants below relate (connected by snn_engine.sby)
    wire             f_nxt;       // dut.nxt_q
    wire             f_lnext;     // dut.lnext_q
    wire             f_ly_last;   // dut.ly_last_q
    wire [1:0]       f_ly;        // dut.ly_q
    wire             f_tail;      // dut.tail_q
    wire [GRP_AW-1:0] f_k;        // dut.k_q
    wire             f_k_last;    // dut.k_last_q
    wire             f_t_last;    // dut.t_last_q
    wire             f_t0;        // dut.t0_q
    wire             f_frd;       // dut.u_fifo.rd_q (the FIFO's RAM was read last cycle)
    wire             f_past;      // dut.u_fifo.past_q
    wire             f_raddr;     // dut.u_fifo.raddr_q
    wire             f_rptr;      // dut.u_fifo.rptr_q
    wire             f_base;      // dut.u_fifo.base_q
    wire             f_wptr;      // dut.u_fifo.wptr_q
    wire             f_pix;       // dut.u_fifo.pix_q
    wire [9:0]       f_mem0;      // dut.u_fifo.u_ram.mem[0]
    wire [9:0]       f_mem1;      // dut.u_fifo.u_ram.mem[1]
    wire [9:0]       f_rdata;     // dut.u_fifo.u_ram.rdata
    wire             f_a_valid;   // dut.u_accum.a_valid_q
    wire             f_a_last;    // dut.u_accum.a_last_q
    wire             f_b_valid;   // dut.u_accum.b_valid_q
    wire             f_b_last;    // dut.u_accum.b_last_q
    wire             f_done;      // dut.u_accum.done_q
    // two hidden layers (N_LAYERS = 2; unconnected otherwise)
    wire             f_at_last;   // dut.at_last_q
    wire             f_scan;      // dut.g_raster.scan_q (start this round's raster scan)
    wire             f_r_busy;    // dut.g_raster.u_raster.scan_busy
    wire             f_r_valid;   // dut.g_raster.u_raster.m_valid
    wire             f_d_valid;   // dut.u_accum.g_layers.d_valid_q (a later layer's read stage)
    wire             f_d_last;    // dut.u_accum.g_layers.d_last_q
`endif

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
                 || (f_state == S_RUN && (f_deep || !f_acc_on || (f_g_last && !f_rd)));
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
            if (f_rd) assert (f_state == S_RUN && f_acc_on && !f_acc_done && !f_deep);  // layer 0 only
            if (f_state != S_RUN) assert (!f_rd && !f_lif_run);
            // the LIF steps of a group run in the round after its accumulation: never in a
            // layer's first round (group 0 accumulating, the first step for layers 1..)
            if (f_lif_run) assert (!f_lif_done && (!f_acc_on || f_g != 1'b0 || (f_deep && f_at != 8'd0)));
            if (f_state == S_RUN && f_acc_on && f_g == 1'b0 && (!f_deep || f_at == 8'd0))
                assert (f_lif_done && !f_lif_run);
            // ranges
            assert (f_t < T || !f_lif_run);
            assert (f_arg < N_OUT);
            assert (f_ostate <= A_OUT);
            if (f_state == S_TAIL) assert (f_tcnt <= 2'd2);
            if (f_ostate != A_IDLE) assert (f_state == S_OUT);
            // accumulator-clear invariant
            if (f_state == S_IDLE) assert (accs_zero);
            // busy: computing, and not parked behind an unread result
            assert (busy == ((f_state == S_RUN) || (f_state == S_TAIL) || (f_ostate == A_ARG)
                             || (f_ostate == A_OUT && (!m_valid || m_ready))));
        end
`ifdef ENGINE_INDUCTION
    // ---- strengthening invariants for k-induction (true in every reachable state; they tie
    // the control FSM to its counters, the FIFO's pointers and contents, the accumulation
    // pipeline and the raster scan)
    wire acc_round = (f_state == S_RUN) && f_acc_on;
    // the FIFO's entries oldest first: o_addr holds the oldest entry not yet released
    wire       o_addr = f_wptr - f_cnt[0];
    wire [9:0] e_old  = o_addr ? f_mem1 : f_mem0;
    wire [9:0] e_new  = o_addr ? f_mem0 : f_mem1;    // the second entry (f_cnt == 2)
    wire [9:0] e_base = f_base ? f_mem1 : f_mem0;
    wire       l_old  = e_old[9], l_new = e_new[9];
    // last bit of the newest entry held or being written (1: none, or an image boundary)
    wire       newest_last = f_we_q ? f_wdata[9] : (f_cnt == 2'd2) ? l_new : (f_cnt == 2'd1) ? l_old : 1'b1;
    wire [1:0] n_last = (f_cnt == 2'd0) ? 2'd0 : (f_cnt == 2'd1) ? {1'b0, l_old} : {1'b0, l_old} + {1'b0, l_new};
    always @(*)
        if (f_init && !rst) begin
            // layer registers; the group and step counters
            assert (f_ly < N_LAYERS && f_deep == (f_ly != 2'd0) && f_ly_last == (f_ly == N_LAYERS - 1));
            if (f_state == S_TAIL) assert (f_nxt == !f_ly_last);
            assert (f_lnext == (f_state == S_TAIL && f_tcnt == 2'd0 && f_nxt));
            assert (f_tail == (f_state == S_TAIL && f_tcnt == 2'd0 && !f_nxt));
            if (f_deep) assert (f_g <= NG1_LAST && f_g_last == (f_g == NG1_LAST[0]));
            else assert (f_g <= NG_LAST && f_g_last == (f_g == NG_LAST[0]));
            if (!acc_round) assert (f_g == 1'b0);
            if (DEEP) assert (f_at < T && f_at_last == (f_at == T - 1) && ((acc_round && f_deep) || f_at == 8'd0));
            if (f_state == S_OUT) assert (f_ostate != A_IDLE);
            if (f_state != S_RUN) assert (!f_acc_on && !f_lif_run);
            if (f_state == S_RUN) assert (f_lif_run == !f_lif_done);
            if (f_state == S_RUN && !f_acc_on) assert (f_acc_done);
            if (f_lif_run)
                assert (f_k_last == (f_k == GRP_LAST) && f_t_last == (f_deep || f_t == T - 1) && f_t0 == (f_t == 8'd0));
            // outside an accumulating round the pipeline is empty and the accumulators are 0
            if (!acc_round)
                assert (!f_rd && !f_frd && !f_a_valid && !f_a_last && !f_b_valid && !f_b_last && !f_done && accs_zero);
            if (DEEP && (!acc_round || !f_deep)) assert (!f_scan && !f_r_busy && !f_r_valid && !f_d_valid);
            // a layer-0 accumulating round: reading until the image's last entry appears, then
            // that last event alone travels through the pipeline (one of a, b, done, acc_done)
            if (acc_round && !f_deep) begin
                assert (f_rd == !f_past);
                if (f_rd) assert (!f_a_last && !f_b_last && !f_done && !f_acc_done);
                else assert ({1'b0, f_a_last} + {1'b0, f_b_last} + {1'b0, f_done} + {1'b0, f_acc_done} == 2'd1);
                // the image stays held until its last entry appears in the last group's pass
                if (f_rd || !f_g_last) assert (f_img_cnt != 2'd0);
                if (f_a_valid && !f_a_last) assert (f_rd);
                if (f_b_valid && !f_b_last) assert (f_rd || f_a_last);
                if (f_frd) assert (f_rd || f_a_last);
                if (f_b_last) assert (!f_a_valid);
                if (f_done) assert (!f_a_valid && !f_b_valid);
                if (f_acc_done) assert (!f_a_valid && !f_b_valid && !f_done);
            end
            // a later layer's accumulating round: the raster scan of the round (started, then
            // busy) ends with one last event, which travels through d, a, b, done, acc_done
            if (acc_round && f_deep) begin
                assert (!f_rd && !f_frd);
                assert ({2'd0, f_scan} + {2'd0, f_r_busy} + {2'd0, f_d_valid && f_d_last} + {2'd0, f_a_last}
                        + {2'd0, f_b_last} + {2'd0, f_done} + {2'd0, f_acc_done} == 3'd1);
                if (f_r_valid) assert (f_r_busy);
                if (f_d_valid && !f_d_last) assert (f_r_busy);
                if (f_a_valid && !f_a_last) assert (f_r_busy || (f_d_valid && f_d_last));
                if (f_b_valid && !f_b_last) assert (f_r_busy || (f_d_valid && f_d_last) || f_a_last);
                if (f_a_last) assert (!f_d_valid);
                if (f_b_last) assert (!f_a_valid && !f_d_valid);
                if (f_done) assert (!f_a_valid && !f_b_valid && !f_d_valid);
                if (f_acc_done) assert (!f_a_valid && !f_b_valid && !f_done && !f_d_valid);
            end
            if (f_a_last) assert (f_a_valid);
            if (f_b_last) assert (f_b_valid);
            // FIFO read side: the rewind point is the oldest entry, except in the release pass
            // after the image's first entry was freed (then that entry was not its last)
            if (acc_round && f_rd && f_frd) begin
                // reading entry raddr, the pass began at base; the release pass (last group)
                // has freed the entries before raddr
                assert (f_rptr == !f_raddr && f_rdata == (f_raddr ? f_mem1 : f_mem0));
                assert (f_raddr == f_base || (!e_base[9] && f_rdata[9]));
                assert (o_addr == (f_g_last ? f_raddr : f_base));
            end else if (acc_round && f_rd) begin
                assert (f_rptr == f_base && f_base == o_addr);
            end else begin
                assert (f_base == o_addr);
            end
            // FIFO contents: images are [first pixel, if nonzero] + [last pixel]; no two first
            // pixels in a row; a newest entry that is a first pixel means the image is open
            if (f_cnt == 2'd2) assert (l_old || l_new);
            if (f_we_q && !f_wdata[9]) assert ((f_cnt == 2'd0 || (f_cnt == 2'd1 ? l_old : l_new)) && f_pix_last);
            if (f_we_q && f_wdata[9]) assert (!f_pix_last);
            if (!newest_last) assert (f_pix_last);
            assert (f_pix_last == (f_pix == 1'b1));
            // complete images held = last entries held
            assert ({1'b0, f_img_cnt} + {2'd0, f_img_in} == {1'b0, n_last});
            if (f_img_in) assert (f_cnt != 2'd0 && (f_cnt == 2'd2 ? l_new : l_old));
        end
`endif
    // a waiting result stays, unchanged, until m_ready; reset empties the engine (checked in
    // the cycle itself, from registered copies of the previous cycle)
    reg                     f_rst_q, f_wait_q;
    reg [CLS_W-1:0]         f_cls_q;
    reg [N_OUT*SCORE_W-1:0] f_scores_q;
    always @(posedge clk) begin
        f_rst_q    <= rst;
        f_wait_q   <= !rst && m_valid && !m_ready;
        f_cls_q    <= m_class;
        f_scores_q <= m_scores;
    end
    always @(*)
        if (f_init && !rst) begin
            if (f_wait_q) assert (m_valid && m_class == f_cls_q && m_scores == f_scores_q);
            if (f_rst_q) assert (!m_valid && f_state == S_IDLE && f_cnt == 2'd0);
        end

    always @(posedge clk) begin
        cover (f_init && !rst && res_out);                          // a result leaves
        cover (f_init && !rst && m_valid && !m_ready && !s_ready);  // a result waits, input refused
        cover (f_init && !rst && f_diff == 4'd3);                   // three images in flight
    end
`endif
endmodule

`default_nettype wire
