// snn_engine: event-driven N_IN-N_HID-N_OUT spiking network (one hidden LIF layer), bit-exact
// with icespike.golden. Architecture, memory layout and cycle model: docs/engine.md.
//
// Group-major: the hidden neurons are processed in groups of LANES. An image runs in rounds;
// in round r the image's events are replayed from the event FIFO into the accumulators of
// group r (snn_accum) while the LIF stage runs the T steps of group r-1 from the hold
// registers (snn_lif_stage, P_LIF neurons per cycle); a round ends when both are done. Every
// spike adds its output-weight column into the scores (snn_output). After the last group's
// LIF steps: the pipeline drains (TAIL), the argmax runs and the result enters the output
// register (snn_output). Cycles per image: docs/engine.md section 4.
//
// Modules: snn_event_fifo (zero skip, FIFO with image replay), snn_accum (weight read, lanes,
// accumulators, hold registers), snn_lif_stage (lif_pipe lanes, membrane banks), snn_output
// (scores, biases, argmax, output register); this file is the control.
`default_nettype none

module snn_engine #(
    parameter N_IN           = 784,   // inputs (pixels per image, >= 2)
    parameter N_HID          = 128,   // hidden LIF neurons (>= 2)
    parameter N_OUT          = 10,    // output integrators (classes)
    parameter T              = 16,    // time steps per image (1..255)
    parameter CODE_W0        = 2,     // layer-0 code width: 1 binary, 2 ternary, 4, 8, 16
    parameter CODE_W1        = 2,     // output-layer code width (same encodings)
    parameter ACC_W          = 19,    // layer-0 current width (IntNetwork.acc_width(0))
    parameter MEM_W          = 21,    // saturating membrane width (IntNetwork.mem_width(0))
    parameter SCORE_W        = 13,    // score width (IntNetwork.score_width())
    parameter [63:0] THRESHOLD = 64'd1000,  // firing threshold, 1..2^(MEM_W-1)-1
    parameter LEAK_SHIFT     = 4,     // leak v - (v >>> LEAK_SHIFT); 0 = no leak
    parameter RESET_SUBTRACT = 1,     // 1: subtract THRESHOLD on a spike; 0: reset to zero
    parameter LANES          = 0,     // accumulation lanes = hidden neurons per group: a power of 2
                                      // dividing 64/CODE_W0, at most 2^clog2(N_HID); 0: the
                                      // default, min(16 (codes of 1-2 bits) or 8, 64/CODE_W0, 2^clog2(N_HID))
    parameter P_LIF          = 1,     // parallel LIF lanes (power of 2 dividing N_HID, LANES/P_LIF >= 2)
    parameter FIFO_DEPTH     = 1024,  // input event FIFO entries (power of 2, >= N_IN)
    parameter W0_SPRAM       = 1,     // 1: layer-0 weights in spram64 (UP5K); 0: ram_sdp (EBR)
    parameter W0_FILE        = "",    // layer-0 weight image ($readmemh, 64-bit words)
    parameter W1_FILE        = "",    // output-layer weight image ($readmemh, N_OUT*CODE_W1 bits)
    parameter HAS_BIAS       = 0,     // 1: per-neuron biases (docs/arithmetic.md section 4a)
    parameter B0_FILE        = "",    // hidden biases ($readmemh, N_HID words of ACC_W bits)
    parameter B1_FILE        = ""     // output biases ($readmemh, N_OUT words of SCORE_W bits)
) (
    input  wire                       clk,
    input  wire                       rst,          // synchronous, active high
    // pixel stream
    input  wire                       s_valid,
    output wire                       s_ready,
    input  wire [7:0]                 s_data,
    // result stream
    output wire                       m_valid,
    input  wire                       m_ready,
    output wire [((N_OUT > 2) ? $clog2(N_OUT) : 1)-1:0] m_class,  // CLS_W bits
    output wire [N_OUT*SCORE_W-1:0]   m_scores,
    // layer-0 weight write port (loader)
    input  wire                       w_we,
    input  wire [((N_IN * ((N_HID + 64 / CODE_W0 - 1) / (64 / CODE_W0)) > 2) ?
                  $clog2(N_IN * ((N_HID + 64 / CODE_W0 - 1) / (64 / CODE_W0))) : 1)-1:0] w_addr,  // W0_AW bits
    input  wire [63:0]                w_data,
    // output-layer weight write port (loader): word w1_addr = the N_OUT codes of hidden neuron
    // w1_addr (the layout of W1_FILE); written into every lane's copy
    input  wire                       w1_we,
    input  wire [((N_HID > 2) ? $clog2(N_HID) : 1)-1:0] w1_addr,  // HID_AW bits
    input  wire [N_OUT*CODE_W1-1:0]   w1_data,
    // bias write port (HAS_BIAS = 1; ignored otherwise): address j < N_HID is hidden neuron j
    // (ACC_W bits of b_data), N_HID + o is output o (SCORE_W bits); takes effect from the next image
    input  wire                       b_we,
    input  wire [(((N_HID + N_OUT) > 2) ? $clog2(N_HID + N_OUT) : 1)-1:0] b_addr,  // B_AW bits
    input  wire [63:0]                b_data,
    // status
    output wire                       busy,
    // trace (testbenches)
    output wire                       trace_valid,  // P_LIF neurons per beat:
    output wire [7:0]                 trace_t,      // time step
    output wire [((N_HID > 2) ? $clog2(N_HID) : 1)-1:0] trace_n,  // first neuron (HID_AW bits)
    output wire [P_LIF-1:0]           trace_spike,  // bit p: neuron trace_n + p
    output wire [P_LIF*MEM_W-1:0]     trace_v       // [p*MEM_W +: MEM_W]: its membrane
);

    // ---------------------------------------------------------------- derived parameters
    localparam CPW     = 64 / CODE_W0;                   // codes per 64-bit weight word
    localparam HID_AW  = (N_HID > 2) ? $clog2(N_HID) : 1;
    localparam L_DEF0  = (CODE_W0 <= 2) ? 16 : 8;
    localparam L_DEF1  = (L_DEF0 < CPW) ? L_DEF0 : CPW;
    localparam L_DEF   = (L_DEF1 < (1 << HID_AW)) ? L_DEF1 : (1 << HID_AW);
    localparam LN      = (LANES != 0) ? LANES : L_DEF;  // accumulation lanes
    localparam IDX_W   = (N_IN > 2) ? $clog2(N_IN) : 1;
    localparam NG      = (N_HID + LN - 1) / LN;    // groups
    localparam G_W     = (NG > 2) ? $clog2(NG) : 1;
    localparam GRP     = LN / P_LIF;                  // beats per group and step
    localparam GRP_AW  = (GRP > 2) ? $clog2(GRP) : 1;
    localparam OSEL_W  = (N_OUT > 2) ? $clog2(N_OUT) : 1;
    localparam B_AW    = ((N_HID + N_OUT) > 2) ? $clog2(N_HID + N_OUT) : 1;
    localparam PAD     = (NG * LN > N_HID) ? 1 : 0;   // the last group has padding neurons
    localparam [MEM_W-1:0]  TH       = THRESHOLD[MEM_W-1:0];
    localparam integer      NG_I     = NG;
    localparam integer      GRP_I    = GRP;
    localparam integer      P_I      = P_LIF;
    localparam integer      N_HID_I  = N_HID;
    localparam integer      T_I      = T;
    localparam integer      G_PREV_I = (NG_I >= 2) ? NG_I - 2 : 0;
    localparam integer      K_PREV_I = GRP_I - 2;
    localparam integer      T_PREV_I = (T_I >= 2) ? T_I - 2 : 0;
    localparam [G_W-1:0]    G_PREV   = G_PREV_I[G_W-1:0];      // g_q before the last group
    localparam [GRP_AW-1:0] K_PREV   = K_PREV_I[GRP_AW-1:0];   // k_q before the last beat
    localparam [7:0]        T_PREV   = T_PREV_I[7:0];          // t_q before the last step
    localparam [HID_AW-1:0] P_J      = P_I[HID_AW-1:0];
    localparam integer      N_OUT_I  = N_OUT;
    localparam [B_AW:0]     N_OUT_B  = N_OUT_I[B_AW:0];
    localparam LOG_L = $clog2(LN);

`ifndef SYNTHESIS
    initial begin
        if (CODE_W0 != 1 && CODE_W0 != 2 && CODE_W0 != 4 && CODE_W0 != 8 && CODE_W0 != 16) begin
            $display("snn_engine: CODE_W0 must be 1, 2, 4, 8 or 16, got %0d", CODE_W0); $finish;
        end
        if (CODE_W1 != 1 && CODE_W1 != 2 && CODE_W1 != 4 && CODE_W1 != 8 && CODE_W1 != 16) begin
            $display("snn_engine: CODE_W1 must be 1, 2, 4, 8 or 16, got %0d", CODE_W1); $finish;
        end
        if (N_HID < 2 || N_OUT < 1 || N_IN < 2) begin
            $display("snn_engine: need N_IN >= 2, N_HID >= 2, N_OUT >= 1"); $finish;
        end
        if (LN < 2 || (LN & (LN - 1)) != 0 || CPW % LN != 0 || LN > (1 << HID_AW)) begin
            $display("snn_engine: LANES %0d must be a power of 2 dividing %0d and at most %0d",
                     LN, CPW, 1 << HID_AW);
            $finish;
        end
        if (P_LIF < 1 || (P_LIF & (P_LIF - 1)) != 0 || N_HID % P_LIF != 0 || GRP < 2) begin
            $display("snn_engine: P_LIF %0d must be a power of 2 dividing N_HID with LANES/P_LIF >= 2",
                     P_LIF);
            $finish;
        end
        if (T < 1 || T > 255) begin
            $display("snn_engine: T must be 1..255, got %0d", T); $finish;
        end
        if (THRESHOLD < 64'd1 || THRESHOLD > (64'd1 << (MEM_W - 1)) - 64'd1) begin
            $display("snn_engine: THRESHOLD %0d outside 1..2^(MEM_W-1)-1", THRESHOLD); $finish;
        end
        if (MEM_W < 2 || SCORE_W < CODE_W1 + 1) begin
            $display("snn_engine: widths too small (MEM_W %0d, SCORE_W %0d)", MEM_W, SCORE_W);
            $finish;
        end
    end
`endif

    localparam [1:0] S_IDLE = 2'd0, S_RUN = 2'd1, S_TAIL = 2'd2, S_OUT = 2'd3;
    reg  [1:0] state_q;

    // ================================================================ event FIFO
    reg                rd_q;            // reading the image's events (this round's group)
    wire               e_valid, e_last;
    wire [7:0]         e_pix;
    wire [IDX_W-1:0]   e_idx;
    wire               img_ready;
    wire               start = (state_q == S_IDLE) & img_ready;
    reg                acc_on_q;        // this round accumulates a group
    reg                acc_done_q, lif_done_q;
    wire               round_end = (state_q == S_RUN) & acc_done_q & lif_done_q;
    wire               new_round = start | (round_end & acc_on_q);
    reg  [G_W-1:0]     g_q;             // the group being accumulated
    reg                g_last_q;        // g_q == NG - 1

    snn_event_fifo #(.N_IN(N_IN), .DEPTH(FIFO_DEPTH)) u_fifo (
        .clk(clk), .rst(rst),
        .s_valid(s_valid), .s_ready(s_ready), .s_data(s_data),
        .rd(rd_q), .rewind(new_round), .release_pass(acc_on_q & g_last_q),
        .e_valid(e_valid), .e_last(e_last), .e_pix(e_pix), .e_idx(e_idx),
        .img_ready(img_ready)
    );

    // ================================================================ accumulation
    wire                   acc_done;
    reg  [GRP_AW-1:0]      k_q;             // LIF beat within the group
    wire [P_LIF*ACC_W-1:0] cur;

    snn_accum #(
        .N_IN(N_IN), .N_HID(N_HID), .CODE_W0(CODE_W0), .ACC_W(ACC_W), .LANES(LN),
        .P_LIF(P_LIF), .W0_SPRAM(W0_SPRAM), .W0_FILE(W0_FILE)
    ) u_accum (
        .clk(clk), .rst(rst),
        .w_we(w_we), .w_addr(w_addr), .w_data(w_data),
        .e_valid(e_valid), .e_last(e_last), .e_pix(e_pix), .e_idx(e_idx), .done(acc_done),
        .group(g_q), .load(round_end & acc_on_q), .sel(k_q), .cur(cur)
    );

    // ================================================================ LIF stage
    reg                lif_run_q;       // issuing beats
    reg                k_last_q;        // k_q == GRP - 1
    reg  [7:0]         t_q;
    reg                t0_q;            // t_q == 0
    reg                t_last_q;        // t_q == T - 1
    reg  [HID_AW-1:0]  j_q;             // first neuron of the beat
    reg  [HID_AW-1:0]  jb_q;            // first neuron of the group
    wire               real_j;          // j_q < N_HID
    generate
        if (PAD != 0) begin : g_pad
            assign real_j = ({1'b0, j_q} < N_HID_I[HID_AW:0]);
        end else begin : g_nopad
            assign real_j = 1'b1;
        end
    endgenerate
    wire               b_hid = ({1'b0, b_addr} < N_HID_I[B_AW:0]);   // bias write to the hidden layer
    wire               col_re, o_valid;
    wire [HID_AW-1:0]  col_j, o_j;
    wire [7:0]         o_t;
    wire [P_LIF-1:0]   o_spike;
    wire [P_LIF*MEM_W-1:0] o_v;

    snn_lif_stage #(
        .N_HID(N_HID), .ACC_W(ACC_W), .MEM_W(MEM_W), .LEAK_SHIFT(LEAK_SHIFT),
        .RESET_SUBTRACT(RESET_SUBTRACT), .P_LIF(P_LIF), .GRP(GRP), .HAS_BIAS(HAS_BIAS),
        .B0_FILE(B0_FILE)
    ) u_lif (
        .clk(clk), .rst(rst), .threshold(TH),
        .b_we(b_we & b_hid & (HAS_BIAS != 0)), .b_addr(b_addr[HID_AW-1:0]), .b_data(b_data[ACC_W-1:0]),
        .i_valid(lif_run_q), .i_first(t0_q), .i_real(real_j), .i_j(j_q), .i_k(k_q), .i_t(t_q),
        .i_cur(cur),
        .col_re(col_re), .col_j(col_j),
        .o_valid(o_valid), .o_t(o_t), .o_j(o_j), .o_spike(o_spike), .o_v(o_v)
    );

    assign trace_valid = o_valid;
    assign trace_t     = o_t;
    assign trace_n     = o_j;
    assign trace_spike = o_spike;
    assign trace_v     = o_v;

    // ================================================================ output layer
    reg          tail_q;               // last TAIL cycle: start the readout
    wire         out_busy, out_done;
    wire [B_AW-1:0] b_oaddr = b_addr - N_HID_I[B_AW-1:0];
    wire         unused_bdata = &{b_data[63:0], b_oaddr, 1'b0};   // upper bits unused

    snn_output #(
        .N_HID(N_HID), .N_OUT(N_OUT), .T(T), .CODE_W1(CODE_W1), .SCORE_W(SCORE_W), .P_LIF(P_LIF),
        .HAS_BIAS(HAS_BIAS), .W1_FILE(W1_FILE), .B1_FILE(B1_FILE)
    ) u_out (
        .clk(clk), .rst(rst),
        .w1_we(w1_we), .w1_addr(w1_addr), .w1_data(w1_data),
        .ob_we(b_we & ~b_hid & (HAS_BIAS != 0) & ({1'b0, b_oaddr} < N_OUT_B)),
        .ob_addr(b_oaddr[OSEL_W-1:0]), .ob_data(b_data[SCORE_W-1:0]),
        .clear(start), .col_re(col_re), .col_j(col_j), .sp_valid(o_valid), .sp_spike(o_spike),
        .start(tail_q), .busy(out_busy), .done(out_done),
        .m_valid(m_valid), .m_ready(m_ready), .m_class(m_class), .m_scores(m_scores)
    );

    // ================================================================ control
    reg [1:0] cnt_q;                    // TAIL cycles
    wire      nacc = start | ~g_last_q; // with new_round: the next round accumulates
    wire      nlif = ~start;            //                 ... and runs LIF steps

    always @(posedge clk) begin
        if (rst) begin
            state_q    <= S_IDLE;
            rd_q       <= 1'b0;
            acc_on_q   <= 1'b0;
            acc_done_q <= 1'b0;
            lif_done_q <= 1'b0;
            lif_run_q  <= 1'b0;
            g_q        <= {G_W{1'b0}};
            g_last_q   <= (NG_I == 1);
            tail_q     <= 1'b0;
            cnt_q      <= 2'd0;
        end else begin
            tail_q <= 1'b0;
            // ---- events of the group being accumulated
            if (e_valid & e_last) rd_q <= 1'b0;
            if (acc_done) acc_done_q <= 1'b1;
            // ---- LIF beats: k within the group, then t
            if (lif_run_q & k_last_q & t_last_q) begin
                lif_run_q  <= 1'b0;
                lif_done_q <= 1'b1;
            end
            // ---- rounds
            if (new_round) begin
                rd_q       <= nacc;
                acc_on_q   <= nacc;
                acc_done_q <= ~nacc;
                lif_run_q  <= nlif;
                lif_done_q <= ~nlif;
            end
            if (round_end & acc_on_q) begin
                g_q      <= g_last_q ? {G_W{1'b0}} : g_q + 1'b1;
                g_last_q <= g_last_q ? (NG_I == 1) : (g_q == G_PREV);
            end
            case (state_q)
                S_IDLE: if (start) state_q <= S_RUN;
                S_RUN: if (round_end & ~acc_on_q) begin
                    state_q <= S_TAIL;
                    cnt_q   <= 2'd2;
                end
                S_TAIL: begin
                    cnt_q <= cnt_q - 2'd1;
                    if (cnt_q == 2'd0) state_q <= S_OUT;
                    if (cnt_q == 2'd1) tail_q <= 1'b1;
                end
                S_OUT: if (out_done) state_q <= S_IDLE;
                default: state_q <= S_IDLE;
            endcase
        end
    end

    // LIF counters (no reset: qualified by lif_run_q; set at every round start)
    wire [HID_AW+G_W-1:0] g_wide = {{HID_AW{1'b0}}, g_q} << LOG_L;   // g_q * LN
    wire [HID_AW-1:0]     g_base = g_wide[HID_AW-1:0];                // (fits: NG*LN <= 2^HID_AW)
    wire                  unused_g_wide = &{g_wide, 1'b0};
    always @(posedge clk) begin
        if (new_round) begin
            k_q      <= {GRP_AW{1'b0}};
            k_last_q <= 1'b0;
            t_q      <= 8'd0;
            t0_q     <= 1'b1;
            t_last_q <= (T_I == 1);
            j_q      <= g_base;          // the group accumulated in the round that ends
            jb_q     <= g_base;
        end else if (lif_run_q) begin
            k_q      <= k_last_q ? {GRP_AW{1'b0}} : k_q + 1'b1;
            k_last_q <= ~k_last_q & (k_q == K_PREV);
            j_q      <= k_last_q ? jb_q : j_q + P_J;
            if (k_last_q) begin
                t_q      <= t_q + 8'd1;
                t0_q     <= 1'b0;
                t_last_q <= (t_q == T_PREV);
            end
        end
    end

    assign busy = (state_q == S_RUN) | (state_q == S_TAIL) | out_busy;

endmodule

`default_nettype wire
