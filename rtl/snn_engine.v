// snn_engine: event-driven spiking network with 1 to 4 hidden LIF layers (N_IN-N_HID-..-N_OUT),
// bit-exact with icespike.golden. Architecture, memory layout and cycle model: docs/engine.md.
//
// Group-major: the hidden neurons are processed in groups of LANES. An image runs in rounds;
// in round r the image's events are replayed from the event FIFO into the accumulators of
// group r (snn_accum) while the LIF stage runs the T steps of group r-1 from the hold
// registers (snn_lif_stage, P_LIF neurons per cycle); a round ends when both are done. Every
// spike adds its output-weight column into the scores (snn_output). After the last group's
// LIF steps: the pipeline drains (TAIL), the argmax runs and the result enters the output
// register (snn_output). Cycles per image: docs/engine.md section 4.
//
// Hidden layers l >= 1 (N_LAYERS > 1): layer l-1's spikes go into a spike raster (snn_raster,
// two ping-pong buffers) instead of the scores. Layer l then runs group-major too, in rounds of
// one (group g, step t): round (g, t) scans raster row t of layer l-1 and adds layer l's codes
// of every spiking neuron j (x = 1) into the accumulators, while the LIF stage of layer l runs
// step t' of the previous round's group g' from the hold registers (membranes of the group kept
// in its bank across the steps). Spikes of the last hidden layer add into the scores. Between
// layers the LIF pipeline drains (3 cycles), so the raster is complete before it is scanned.
// Every hidden layer has its own LIF stage (its threshold, leak, reset and membrane width).
//
// Modules: snn_event_fifo (zero skip, FIFO with image replay), snn_accum (weight read, lanes,
// accumulators, hold registers), snn_lif_stage (lif_pipe lanes, membrane banks), snn_raster
// (spikes between hidden layers), snn_output (scores, biases, argmax, output register); this
// file is the control.
`default_nettype none

module snn_engine #(
    parameter N_IN           = 784,   // inputs (pixels per image)
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
    parameter LIF_SPLIT_W    = 23,    // a hidden layer whose membrane has >= LIF_SPLIT_W bits keeps its
                                      // membranes leaked and both integrate chains in one LIF stage
                                      // (snn_lif_stage LIF_SPLIT = 1: timing, no cycles); 0: no layer
    parameter FIFO_DEPTH     = 1024,  // input event FIFO entries (power of 2, >= N_IN)
    parameter W0_SPRAM       = 1,     // 1: layer-0 weights in spram64 (UP5K); 0: ram_sdp (EBR)
    parameter W0_FILE        = "",    // layer-0 weight image ($readmemh, 64-bit words)
    parameter W1_FILE        = "",    // output-layer weight image ($readmemh, N_OUT*CODE_W1 bits)
    parameter HAS_BIAS       = 0,     // 1: per-neuron biases (docs/arithmetic.md section 4a)
    parameter B0_FILE        = "",    // hidden biases ($readmemh, N_HID words of ACC_W bits)
    parameter B1_FILE        = "",    // output biases ($readmemh, N_OUT words of SCORE_W bits)
    // hidden layers 1..3 (N_LAYERS > 1; docs/engine.md section 2): layer l at [B*(l-1) +: B]
    parameter N_LAYERS       = 1,     // hidden layers, 1..4 (biases need 1)
    parameter [47:0]  N_HID_L          = 48'd0,   // neurons (16 bits per layer)
    parameter [23:0]  ACC_W_L          = 24'd0,   // current widths (8 bits; <= ACC_W)
    parameter [23:0]  MEM_W_L          = 24'd0,   // membrane widths (8 bits)
    parameter [191:0] THRESHOLD_L      = 192'd0,  // thresholds (64 bits)
    parameter [23:0]  LEAK_SHIFT_L     = 24'd0,   // leak shifts (8 bits)
    parameter [2:0]   RESET_SUBTRACT_L = 3'd0,    // reset rules (1 bit)
    // derived (do not override)
    parameter N_H1     = (N_LAYERS > 1) ? N_HID_L[15:0] : 0,
    parameter N_H2     = (N_LAYERS > 2) ? N_HID_L[31:16] : 0,
    parameter N_H3     = (N_LAYERS > 3) ? N_HID_L[47:32] : 0,
    parameter M_W1     = (N_LAYERS > 1) ? MEM_W_L[7:0] : 0,
    parameter M_W2     = (N_LAYERS > 2) ? MEM_W_L[15:8] : 0,
    parameter M_W3     = (N_LAYERS > 3) ? MEM_W_L[23:16] : 0,
    parameter CPW_P    = 64 / CODE_W0,
    parameter W0_WORDS = N_IN * ((N_HID + CPW_P - 1) / CPW_P) + N_HID * ((N_H1 + CPW_P - 1) / CPW_P)
                       + N_H1 * ((N_H2 + CPW_P - 1) / CPW_P) + N_H2 * ((N_H3 + CPW_P - 1) / CPW_P),
    parameter W0_AW_P  = (W0_WORDS > 2) ? $clog2(W0_WORDS) : 1,           // w_addr bits
    parameter N_HMAX   = (N_HID > N_H1 ? (N_HID > N_H2 ? (N_HID > N_H3 ? N_HID : N_H3) : (N_H2 > N_H3 ? N_H2 : N_H3))
                                       : (N_H1 > N_H2 ? (N_H1 > N_H3 ? N_H1 : N_H3) : (N_H2 > N_H3 ? N_H2 : N_H3))),
    parameter HID_AW_P = (N_HMAX > 2) ? $clog2(N_HMAX) : 1,               // neuron index bits
    parameter MEM_W_T  = (MEM_W > M_W1 ? (MEM_W > M_W2 ? (MEM_W > M_W3 ? MEM_W : M_W3) : (M_W2 > M_W3 ? M_W2 : M_W3))
                                       : (M_W1 > M_W2 ? (M_W1 > M_W3 ? M_W1 : M_W3) : (M_W2 > M_W3 ? M_W2 : M_W3)))
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
    input  wire [W0_AW_P-1:0]         w_addr,       // W0_AW bits (every hidden layer's words)
    input  wire [63:0]                w_data,
    // output-layer weight write port (loader): word w1_addr = the N_OUT codes of neuron w1_addr
    // of the last hidden layer (the layout of W1_FILE); written into every lane's copy
    input  wire                       w1_we,
    input  wire [HID_AW_P-1:0]        w1_addr,      // HID_AW bits
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
    output wire [HID_AW_P-1:0]        trace_n,      // first neuron (HID_AW bits)
    output wire [P_LIF-1:0]           trace_spike,  // bit p: neuron trace_n + p
    output wire [P_LIF*MEM_W_T-1:0]   trace_v,      // [p*MEM_W_T +: MEM_W_T]: its membrane (sign-extended)
    output wire [1:0]                 trace_layer   // hidden layer of the beat
);

    // ---------------------------------------------------------------- derived parameters
    localparam CPW     = 64 / CODE_W0;                   // codes per 64-bit weight word
    localparam HID0_AW = (N_HID > 2) ? $clog2(N_HID) : 1;
    localparam HID_AW  = HID_AW_P;                       // neuron index of any hidden layer
    localparam L_DEF0  = (CODE_W0 <= 2) ? 16 : 8;
    localparam L_DEF1  = (L_DEF0 < CPW) ? L_DEF0 : CPW;
    localparam L_DEF   = (L_DEF1 < (1 << HID0_AW)) ? L_DEF1 : (1 << HID0_AW);
    localparam LN      = (LANES != 0) ? LANES : L_DEF;  // accumulation lanes
    localparam FIDX_W  = (N_IN > 2) ? $clog2(N_IN) : 1;  // event index of the FIFO (pixels)
    localparam N_ROWS  = (N_LAYERS > 1 && N_HMAX > N_IN) ? N_HMAX : N_IN;  // rows of any layer
    localparam IDX_W   = (N_ROWS > 2) ? $clog2(N_ROWS) : 1;
    localparam NG      = (N_HID + LN - 1) / LN;    // groups of layer 0
    localparam NG1     = (N_H1 + LN - 1) / LN;     // ... of layers 1..3 (0: no such layer)
    localparam NG2     = (N_H2 + LN - 1) / LN;
    localparam NG3     = (N_H3 + LN - 1) / LN;
    localparam NGM     = (N_HMAX + LN - 1) / LN;   // groups of the largest layer
    localparam G_W     = (NGM > 2) ? $clog2(NGM) : 1;
    localparam GC_W    = $clog2(NGM + 1);          // a group count (raster scan)
    localparam N_LAST  = (N_LAYERS == 1) ? N_HID : (N_LAYERS == 2) ? N_H1 : (N_LAYERS == 3) ? N_H2 : N_H3;
    localparam HIDL_AW = (N_LAST > 2) ? $clog2(N_LAST) : 1;   // neuron index of the last layer
    localparam GRP     = LN / P_LIF;                  // beats per group and step
    localparam GRP_AW  = (GRP > 2) ? $clog2(GRP) : 1;
    localparam OSEL_W  = (N_OUT > 2) ? $clog2(N_OUT) : 1;
    localparam B_AW    = ((N_HID + N_OUT) > 2) ? $clog2(N_HID + N_OUT) : 1;
    localparam PAD     = (N_LAYERS > 1 || NG * LN > N_HID) ? 1 : 0;   // a group may hold padding neurons
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
    // per-layer constants of the control (layers 1..3; unused for fewer layers)
    localparam integer      NG1_I = NG1, NG2_I = NG2, NG3_I = NG3;
    localparam integer      G1_PREV_I = (NG1_I >= 2) ? NG1_I - 2 : 0;
    localparam integer      G2_PREV_I = (NG2_I >= 2) ? NG2_I - 2 : 0;
    localparam integer      G3_PREV_I = (NG3_I >= 2) ? NG3_I - 2 : 0;
    localparam [G_W-1:0]    G1_PREV = G1_PREV_I[G_W-1:0];
    localparam [G_W-1:0]    G2_PREV = G2_PREV_I[G_W-1:0];
    localparam [G_W-1:0]    G3_PREV = G3_PREV_I[G_W-1:0];
    localparam [GC_W-1:0]   NG0_C = NG_I[GC_W-1:0];     // raster words of layers 0..2 (scanned by 1..3)
    localparam [GC_W-1:0]   NG1_C = NG1_I[GC_W-1:0];
    localparam [GC_W-1:0]   NG2_C = NG2_I[GC_W-1:0];
    localparam integer      N_H1_I = N_H1, N_H2_I = N_H2, N_H3_I = N_H3;
    localparam integer      N_LAYERS_I = N_LAYERS;
    localparam integer      LY_LAST_I = N_LAYERS - 1;
    localparam [1:0]        LY_LAST = LY_LAST_I[1:0];

`ifndef SYNTHESIS
    initial begin
        if (CODE_W0 != 1 && CODE_W0 != 2 && CODE_W0 != 4 && CODE_W0 != 8 && CODE_W0 != 16) begin
            $display("snn_engine: CODE_W0 must be 1, 2, 4, 8 or 16, got %0d", CODE_W0); $finish;
        end
        if (CODE_W1 != 1 && CODE_W1 != 2 && CODE_W1 != 4 && CODE_W1 != 8 && CODE_W1 != 16) begin
            $display("snn_engine: CODE_W1 must be 1, 2, 4, 8 or 16, got %0d", CODE_W1); $finish;
        end
        if (N_HID < 2 || N_OUT < 1 || N_IN < 1) begin
            $display("snn_engine: need N_IN >= 1, N_HID >= 2, N_OUT >= 1"); $finish;
        end
        if (LN < 2 || (LN & (LN - 1)) != 0 || CPW % LN != 0 || LN > (1 << HID0_AW)) begin
            $display("snn_engine: LANES %0d must be a power of 2 dividing %0d and at most %0d",
                     LN, CPW, 1 << HID0_AW);
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
        if (ACC_W < 8 + CODE_W0 + 1 || MEM_W < 2 || SCORE_W < CODE_W1 + 1) begin
            $display("snn_engine: widths too small (ACC_W %0d, MEM_W %0d, SCORE_W %0d)", ACC_W, MEM_W, SCORE_W);
            $finish;
        end
        if (N_LAYERS < 1 || N_LAYERS > 4 || (N_LAYERS > 1 && HAS_BIAS != 0)) begin
            $display("snn_engine: N_LAYERS %0d must be 1..4, and 1 with biases", N_LAYERS); $finish;
        end
        if (N_LAYERS > 1 && GRP < 4) begin
            $display("snn_engine: with N_LAYERS > 1, LANES/P_LIF must be >= 4, got %0d", GRP); $finish;
        end
        if ((N_LAYERS > 1 && (N_H1 < 2 || N_H1 % P_LIF != 0 || {24'd0, ACC_W_L[7:0]} > ACC_W || M_W1 < 2
                              || THRESHOLD_L[63:0] < 64'd1 || THRESHOLD_L[63:0] > (64'd1 << (M_W1 - 1)) - 64'd1
                              || {24'd0, LEAK_SHIFT_L[7:0]} >= M_W1))
            || (N_LAYERS > 2 && (N_H2 < 2 || N_H2 % P_LIF != 0 || {24'd0, ACC_W_L[15:8]} > ACC_W || M_W2 < 2
                              || THRESHOLD_L[127:64] < 64'd1 || THRESHOLD_L[127:64] > (64'd1 << (M_W2 - 1)) - 64'd1
                              || {24'd0, LEAK_SHIFT_L[15:8]} >= M_W2))
            || (N_LAYERS > 3 && (N_H3 < 2 || N_H3 % P_LIF != 0 || {24'd0, ACC_W_L[23:16]} > ACC_W || M_W3 < 2
                              || THRESHOLD_L[191:128] < 64'd1 || THRESHOLD_L[191:128] > (64'd1 << (M_W3 - 1)) - 64'd1
                              || {24'd0, LEAK_SHIFT_L[23:16]} >= M_W3))) begin
            $display("snn_engine: a later hidden layer's parameters are out of range (N_HID_L, ACC_W_L, MEM_W_L, THRESHOLD_L, LEAK_SHIFT_L)");
            $finish;
        end
    end
`endif

    localparam [1:0] S_IDLE = 2'd0, S_RUN = 2'd1, S_TAIL = 2'd2, S_OUT = 2'd3;
    reg  [1:0] state_q;
    reg  [1:0] ly_q;                    // hidden layer being computed
    reg        deep_q;                  // ly_q != 0: events come from the spike raster
    reg        ly_last_q;               // ly_q == N_LAYERS - 1
    reg        nxt_q;                   // the TAIL under way leads to the next layer
    reg  [1:0] cnt_q;                   // TAIL cycles

    // ================================================================ event FIFO
    reg                rd_q;            // reading the image's events (this round's group)
    wire               e_valid, e_last;
    wire [7:0]         e_pix;
    wire [FIDX_W-1:0]  e_idx;
    wire               img_ready;
    wire               start = (state_q == S_IDLE) & img_ready;
    reg                lnext_q;         // the next layer starts (TAIL's last cycle, from a register)
    wire               lnext = lnext_q;
    wire               lstart = start | lnext;
    reg                acc_on_q;        // this round accumulates a group
    reg                acc_done_q, lif_done_q;
    wire               round_end = (state_q == S_RUN) & acc_done_q & lif_done_q;
    wire               new_round = lstart | (round_end & acc_on_q);
    reg  [G_W-1:0]     g_q;             // the group being accumulated
    reg                g_last_q;        // g_q == (groups of the layer) - 1
    reg  [7:0]         at_q;            // layers 1..: the step being accumulated
    reg                at_last_q;       // at_q == T - 1

    snn_event_fifo #(.N_IN(N_IN), .DEPTH(FIFO_DEPTH)) u_fifo (
        .clk(clk), .rst(rst),
        .s_valid(s_valid), .s_ready(s_ready), .s_data(s_data),
        .rd(rd_q), .rewind(new_round), .release_pass(acc_on_q & g_last_q),  // (layers 1.. read no events)
        .e_valid(e_valid), .e_last(e_last), .e_pix(e_pix), .e_idx(e_idx),
        .img_ready(img_ready)
    );

    // ================================================================ spike raster (layers 1..)
    wire               ev_valid, ev_last;   // the events the accumulators take
    wire [7:0]         ev_pix;
    wire [IDX_W-1:0]   ev_idx;
    wire [P_LIF-1:0]   rw_bits;             // spikes of the layer being computed (not the last)
    wire               rw_valid;
    generate
        if (N_LAYERS == 1) begin : g_no_raster
            assign ev_valid = e_valid;
            assign ev_last  = e_last;
            assign ev_pix   = e_pix;
            assign ev_idx   = e_idx;
            wire unused_raster = &{rw_bits, rw_valid, at_q, at_last_q, deep_q, ly_last_q, 1'b0};
        end else begin : g_raster
            localparam T_AW = (T > 1) ? $clog2(T) : 1;
            localparam R_IW = ((NGM > 1) ? $clog2(NGM) : 1) + $clog2(LN);
            reg               scan_q;       // start the scan of this round's row
            reg  [GC_W-1:0]   words;        // the words of a row of layer ly_q - 1
            wire              r_busy, r_valid, r_done;
            wire [R_IW-1:0]   r_idx;
            always @* begin
                case (ly_q)
                    2'd1:    words = NG0_C;
                    2'd2:    words = NG1_C;
                    default: words = NG2_C;
                endcase
            end
            always @(posedge clk)
                if (rst) scan_q <= 1'b0;
                else     scan_q <= new_round & (lnext | (deep_q & ~start)) & (lstart | ~(g_last_q & at_last_q));
            snn_raster #(.LANES(LN), .P_IN(P_LIF), .T(T), .N_MAX(N_HMAX)) u_raster (
                .clk(clk), .rst(rst), .sel(ly_q[0]),
                .w_start(lstart), .w_valid(rw_valid), .w_bits(rw_bits),
                .scan_start(scan_q), .scan_t(at_q[T_AW-1:0]), .scan_groups(words),
                .scan_busy(r_busy), .m_valid(r_valid), .m_ready(1'b1), .m_idx(r_idx), .done(r_done)
            );
            wire [IDX_W+R_IW-1:0] ridx_w = {{IDX_W{1'b0}}, r_idx};
            wire [IDX_W+FIDX_W-1:0] fidx_w = {{IDX_W{1'b0}}, e_idx};
            wire unused_r = &{r_busy, ridx_w, fidx_w, at_q, 1'b0};
            // an empty row still ends with one event: x = 0 adds nothing (like a zero last pixel)
            assign ev_valid = deep_q ? (r_valid | r_done) : e_valid;
            assign ev_last  = deep_q ? r_done : e_last;
            assign ev_pix   = deep_q ? {7'd0, r_valid} : e_pix;
            assign ev_idx   = deep_q ? (r_valid ? ridx_w[IDX_W-1:0] : {IDX_W{1'b0}}) : fidx_w[IDX_W-1:0];
        end
    endgenerate

    // ================================================================ accumulation
    wire                   acc_done;
    reg  [GRP_AW-1:0]      k_q;             // LIF beat within the group
    wire [P_LIF*ACC_W-1:0] cur;

    snn_accum #(
        .N_IN(N_IN), .N_HID(N_HID), .CODE_W0(CODE_W0), .ACC_W(ACC_W), .LANES(LN),
        .P_LIF(P_LIF), .W0_SPRAM(W0_SPRAM), .W0_FILE(W0_FILE), .N_LAYERS(N_LAYERS), .N_HID_L(N_HID_L)
    ) u_accum (
        .clk(clk), .rst(rst),
        .w_we(w_we), .w_addr(w_addr), .w_data(w_data),
        .e_valid(ev_valid), .e_last(ev_last), .e_pix(ev_pix), .e_idx(ev_idx), .done(acc_done),
        .layer(ly_q), .group(g_q), .load(round_end & acc_on_q), .sel(k_q), .cur(cur)
    );

    // ================================================================ LIF stages (one per layer)
    reg                lif_run_q;       // issuing beats
    reg                k_last_q;        // k_q == GRP - 1
    reg  [7:0]         t_q;
    reg                t0_q;            // t_q == 0
    reg                t_last_q;        // t_q == the round's last step
    reg  [HID_AW-1:0]  j_q;             // first neuron of the beat
    reg  [HID_AW-1:0]  jb_q;            // first neuron of the group
    wire               real_j;          // j_q < neurons of the layer
    generate
        if (PAD != 0 && N_LAYERS == 1) begin : g_pad
            assign real_j = ({1'b0, j_q} < N_HID_I[HID_AW:0]);
        end else if (PAD != 0) begin : g_pad_l
            reg [HID_AW:0] n_ly;
            always @* begin
                case (ly_q)
                    2'd0:    n_ly = N_HID_I[HID_AW:0];
                    2'd1:    n_ly = N_H1_I[HID_AW:0];
                    2'd2:    n_ly = N_H2_I[HID_AW:0];
                    default: n_ly = N_H3_I[HID_AW:0];
                endcase
            end
            assign real_j = ({1'b0, j_q} < n_ly);
        end else begin : g_nopad
            assign real_j = 1'b1;
        end
    endgenerate
    wire               b_hid = ({1'b0, b_addr} < N_HID_I[B_AW:0]);   // bias write to the hidden layer
    wire [3:0]         s_col_re, s_valid_o, s_beat;
    wire [4*HID_AW-1:0] s_col_j, s_j;
    wire [4*8-1:0]     s_t;
    wire [4*P_LIF-1:0] s_spike;
    wire [4*P_LIF*MEM_W_T-1:0] s_v;

    genvar l;
    generate
        for (l = 0; l < 4; l = l + 1) begin : g_layer
            if (l < N_LAYERS) begin : g_on
                localparam integer LB  = (l == 0) ? 0 : l - 1;   // index into the *_L vectors
                localparam integer NL  = (l == 0) ? N_HID : {16'd0, N_HID_L[16*LB +: 16]};
                localparam integer MW  = (l == 0) ? MEM_W : {24'd0, MEM_W_L[8*LB +: 8]};
                localparam integer LK  = (l == 0) ? LEAK_SHIFT : {24'd0, LEAK_SHIFT_L[8*LB +: 8]};
                localparam integer RS  = (l == 0) ? RESET_SUBTRACT : {31'd0, RESET_SUBTRACT_L[LB]};
                localparam [63:0]  THL = (l == 0) ? THRESHOLD : THRESHOLD_L[64*LB +: 64];
                // the layer's current width: later layers' currents fit ACC_W_L (<= ACC_W) bits,
                // so their LIF chains are that narrow
                localparam integer AWL = (l == 0) ? ACC_W : {24'd0, ACC_W_L[8*LB +: 8]};
                localparam [MW-1:0] TH = THL[MW-1:0];
                localparam LAW = (NL > 2) ? $clog2(NL) : 1;
                localparam integer L_I = l;
                localparam integer SPL = (LIF_SPLIT_W != 0 && MW >= LIF_SPLIT_W) ? 1 : 0;
                wire             col_re_l, o_valid_l, o_beat_l;
                wire [LAW-1:0]   col_j_l, o_j_l;
                wire [7:0]       o_t_l;
                wire [P_LIF-1:0] o_spike_l;
                wire [P_LIF*MW-1:0] o_v_l;
                wire [P_LIF*AWL-1:0] cur_l;
                genvar c;
                for (c = 0; c < P_LIF; c = c + 1) begin : g_cur
                    assign cur_l[c*AWL +: AWL] = cur[c*ACC_W +: AWL];
                end
                if (AWL < ACC_W) begin : g_cut
                    wire unused_cur = &{cur, 1'b0};   // the upper bits of a narrower layer's current
                end
                snn_lif_stage #(
                    .N_HID(NL), .ACC_W(AWL), .MEM_W(MW), .LEAK_SHIFT(LK), .RESET_SUBTRACT(RS),
                    .P_LIF(P_LIF), .GRP(GRP), .HAS_BIAS((l == 0) ? HAS_BIAS : 0),
                    .B0_FILE((l == 0) ? B0_FILE : ""), .LIF_SPLIT(SPL)
                ) u_lif (
                    .clk(clk), .rst(rst), .threshold(TH),
                    .b_we(b_we & b_hid & (HAS_BIAS != 0) & (l == 0)), .b_addr(b_addr[LAW-1:0]),
                    .b_data(b_data[AWL-1:0]),
                    .i_valid(lif_run_q & (ly_q == L_I[1:0])), .i_first(t0_q), .i_real(real_j),
                    .i_j(j_q[LAW-1:0]), .i_k(k_q), .i_t(t_q), .i_cur(cur_l),
                    .col_re(col_re_l), .col_j(col_j_l),
                    .o_valid(o_valid_l), .o_beat(o_beat_l), .o_t(o_t_l), .o_j(o_j_l),
                    .o_spike(o_spike_l), .o_v(o_v_l)
                );
                wire [HID_AW+LAW-1:0] col_jw = {{HID_AW{1'b0}}, col_j_l};
                wire [HID_AW+LAW-1:0] o_jw   = {{HID_AW{1'b0}}, o_j_l};
                wire unused_w = &{col_jw, o_jw, 1'b0};
                assign s_col_re[l]                   = col_re_l;
                assign s_col_j[l*HID_AW +: HID_AW]   = col_jw[HID_AW-1:0];
                assign s_valid_o[l]                  = o_valid_l;
                assign s_beat[l]                     = o_beat_l;
                assign s_j[l*HID_AW +: HID_AW]       = o_valid_l ? o_jw[HID_AW-1:0] : {HID_AW{1'b0}};
                assign s_t[l*8 +: 8]                 = o_valid_l ? o_t_l : 8'd0;
                assign s_spike[l*P_LIF +: P_LIF]     = o_valid_l ? o_spike_l : {P_LIF{1'b0}};
                genvar q;
                for (q = 0; q < P_LIF; q = q + 1) begin : g_v
                    wire [MW-1:0] v = o_v_l[q*MW +: MW];
                    assign s_v[(l*P_LIF+q)*MEM_W_T +: MEM_W_T] =
                        o_valid_l ? {{(MEM_W_T-MW+1){v[MW-1]}}, v[MW-2:0]} : {MEM_W_T{1'b0}};
                end
            end else begin : g_off
                assign s_col_re[l]                                   = 1'b0;
                assign s_col_j[l*HID_AW +: HID_AW]                   = {HID_AW{1'b0}};
                assign s_valid_o[l]                                  = 1'b0;
                assign s_beat[l]                                     = 1'b0;
                assign s_j[l*HID_AW +: HID_AW]                       = {HID_AW{1'b0}};
                assign s_t[l*8 +: 8]                                 = 8'd0;
                assign s_spike[l*P_LIF +: P_LIF]                     = {P_LIF{1'b0}};
                assign s_v[l*P_LIF*MEM_W_T +: P_LIF*MEM_W_T]         = {(P_LIF*MEM_W_T){1'b0}};
            end
        end
    endgenerate

    // the raster takes the spikes of every layer but the last (whole groups, padding as 0)
    assign rw_valid = |(s_beat & ~(4'b0001 << LY_LAST));
    assign rw_bits  = s_spike[0 +: P_LIF] | s_spike[P_LIF +: P_LIF] | s_spike[2*P_LIF +: P_LIF];

    // trace: the beat of whichever layer has one (one layer at a time)
    assign trace_valid = |s_valid_o;
    assign trace_t     = s_t[0 +: 8] | s_t[8 +: 8] | s_t[16 +: 8] | s_t[24 +: 8];
    assign trace_n     = s_j[0 +: HID_AW] | s_j[HID_AW +: HID_AW] | s_j[2*HID_AW +: HID_AW]
                       | s_j[3*HID_AW +: HID_AW];
    assign trace_spike = s_spike[0 +: P_LIF] | s_spike[P_LIF +: P_LIF] | s_spike[2*P_LIF +: P_LIF]
                       | s_spike[3*P_LIF +: P_LIF];
    assign trace_v     = s_v[0 +: P_LIF*MEM_W_T] | s_v[P_LIF*MEM_W_T +: P_LIF*MEM_W_T]
                       | s_v[2*P_LIF*MEM_W_T +: P_LIF*MEM_W_T] | s_v[3*P_LIF*MEM_W_T +: P_LIF*MEM_W_T];
    assign trace_layer = {s_valid_o[3] | s_valid_o[2], s_valid_o[3] | s_valid_o[1]};

    // ================================================================ output layer
    reg          tail_q;               // last TAIL cycle: start the readout
    wire         out_busy, out_done;
    wire [B_AW-1:0] b_oaddr = b_addr - N_HID_I[B_AW-1:0];
    wire         unused_bdata = &{b_data[63:0], b_oaddr, 1'b0};   // upper bits unused
    wire [HID_AW+HIDL_AW-1:0] w1a_w  = {{HIDL_AW{1'b0}}, w1_addr};
    wire [HID_AW-1:0]         ocol_j = s_col_j[LY_LAST_I*HID_AW +: HID_AW];
    wire [HID_AW+HIDL_AW-1:0] ocol_w = {{HIDL_AW{1'b0}}, ocol_j};
    wire         unused_w1a = &{w1a_w, ocol_w, s_col_j, 1'b0};   // only the last layer's columns

    snn_output #(
        .N_HID(N_LAST), .N_OUT(N_OUT), .T(T), .CODE_W1(CODE_W1), .SCORE_W(SCORE_W), .P_LIF(P_LIF),
        .HAS_BIAS(HAS_BIAS), .W1_FILE(W1_FILE), .B1_FILE(B1_FILE)
    ) u_out (
        .clk(clk), .rst(rst),
        .w1_we(w1_we), .w1_addr(w1a_w[HIDL_AW-1:0]), .w1_data(w1_data),
        .ob_we(b_we & ~b_hid & (HAS_BIAS != 0) & ({1'b0, b_oaddr} < N_OUT_B)),
        .ob_addr(b_oaddr[OSEL_W-1:0]), .ob_data(b_data[SCORE_W-1:0]),
        .clear(start), .col_re(s_col_re[LY_LAST_I]), .col_j(ocol_w[HIDL_AW-1:0]),
        .sp_valid(s_valid_o[LY_LAST_I]), .sp_spike(s_spike[LY_LAST_I*P_LIF +: P_LIF]),
        .start(tail_q), .busy(out_busy), .done(out_done),
        .m_valid(m_valid), .m_ready(m_ready), .m_class(m_class), .m_scores(m_scores)
    );

    // ================================================================ control
    wire      acc_last = g_last_q & (~deep_q | at_last_q);  // this acc round is the layer's last
    wire      nacc = lstart | ~acc_last;  // with new_round: the next round accumulates
    wire      nlif = ~lstart;             //                 ... and runs LIF steps
    reg       g_one;                      // the next layer has one group
    reg [G_W-1:0] g_prev;                 // g_q before the layer's last group
    always @* begin
        case (ly_q)
            2'd0:    begin g_one = (NG_I == 1);  g_prev = G_PREV;  end
            2'd1:    begin g_one = (NG1_I == 1); g_prev = G1_PREV; end
            2'd2:    begin g_one = (NG2_I == 1); g_prev = G2_PREV; end
            default: begin g_one = (NG3_I == 1); g_prev = G3_PREV; end
        endcase
    end
    reg       g_one_nxt;                  // the layer after ly_q has one group
    always @* begin
        case (ly_q)
            2'd0:    g_one_nxt = (NG1_I == 1);
            2'd1:    g_one_nxt = (NG2_I == 1);
            default: g_one_nxt = (NG3_I == 1);
        endcase
    end

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
            ly_q       <= 2'd0;
            deep_q     <= 1'b0;
            ly_last_q  <= (N_LAYERS_I == 1);
            nxt_q      <= 1'b0;
            lnext_q    <= 1'b0;
            at_q       <= 8'd0;
            at_last_q  <= (T_I == 1);
        end else begin
            tail_q  <= 1'b0;
            lnext_q <= (state_q == S_TAIL) & (cnt_q == 2'd1) & nxt_q;
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
                rd_q       <= nacc & (start | ~deep_q) & ~lnext;   // layer 0 reads the event FIFO
                acc_on_q   <= nacc;
                acc_done_q <= ~nacc;
                lif_run_q  <= nlif;
                lif_done_q <= ~nlif;
            end
            if (round_end & acc_on_q) begin
                if (~deep_q | at_last_q) begin
                    g_q      <= g_last_q ? {G_W{1'b0}} : g_q + 1'b1;
                    g_last_q <= g_last_q ? g_one : (g_q == g_prev);
                end
                if (deep_q) begin
                    at_q      <= at_last_q ? 8'd0 : at_q + 8'd1;
                    at_last_q <= at_last_q ? (T_I == 1) : (at_q == T_PREV);
                end
            end
            if (N_LAYERS_I > 1 && start) begin   // a new image: layer 0
                ly_q      <= 2'd0;
                deep_q    <= 1'b0;
                ly_last_q <= (N_LAYERS_I == 1);
                g_q       <= {G_W{1'b0}};
                g_last_q  <= (NG_I == 1);
            end
            if (lnext) begin                     // the next layer: its first group and step
                ly_q      <= ly_q + 2'd1;
                deep_q    <= 1'b1;
                ly_last_q <= (ly_q + 2'd1 == LY_LAST);
                g_q       <= {G_W{1'b0}};
                g_last_q  <= g_one_nxt;
                at_q      <= 8'd0;
                at_last_q <= (T_I == 1);
            end
            case (state_q)
                S_IDLE: if (start) state_q <= S_RUN;
                S_RUN: if (round_end & ~acc_on_q) begin
                    state_q <= S_TAIL;
                    cnt_q   <= 2'd2;
                    nxt_q   <= ~ly_last_q;
                end
                S_TAIL: begin
                    cnt_q <= cnt_q - 2'd1;
                    if (cnt_q == 2'd0) state_q <= nxt_q ? S_RUN : S_OUT;
                    if (cnt_q == 2'd1 && !nxt_q) tail_q <= 1'b1;
                end
                S_OUT: if (out_done) state_q <= S_IDLE;
                default: state_q <= S_IDLE;
            endcase
        end
    end

    // LIF counters (no reset: qualified by lif_run_q; set at every round start). Layer 0: the
    // T steps of the group accumulated in the round that ends; layers 1..: its one step at_q.
    wire [HID_AW+G_W-1:0] g_wide = {{HID_AW{1'b0}}, g_q} << LOG_L;   // g_q * LN
    wire [HID_AW-1:0]     g_base = g_wide[HID_AW-1:0];                // (fits: NG*LN <= 2^HID_AW)
    wire                  unused_g_wide = &{g_wide, 1'b0};
    always @(posedge clk) begin
        if (new_round) begin
            k_q      <= {GRP_AW{1'b0}};
            k_last_q <= 1'b0;
            t_q      <= deep_q ? at_q : 8'd0;
            t0_q     <= deep_q ? (at_q == 8'd0) : 1'b1;
            t_last_q <= deep_q | (T_I == 1);
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
