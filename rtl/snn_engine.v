// snn_engine: event-driven N_IN-N_HID-N_OUT spiking network (one hidden LIF layer), bit-exact
// with icespike.golden. Architecture, memory layout and cycle model: docs/engine.md.
//
// Phases per image (cycles in docs/engine.md section 4):
//   L0    nonzero pixels from the event FIFO; WPR weight words per pixel, LANES codes per word,
//         accumulated into per-lane rings of layer-0 currents (ternary/binary: add/sub/skip,
//         4/8/16 bits: one registered multiplier per lane);
//   DRAIN the last additions leave the pipeline;
//   LIF   T steps x N_HID neurons, P_LIF lif_update lanes per cycle, membranes in EBR banks; a
//         spike of hidden neuron j adds output-weight column j into the N_OUT scores in the same
//         pipeline;
//   TAIL  the last neuron's update and score addition leave the pipeline;
//   ARG   argmax over the scores (lowest index on ties), one score per cycle, plus two cycles;
//   OUT   result into the output register (waits there while the previous result is unread).
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
    parameter P_LIF          = 1,     // parallel LIF lanes (1, 2, 4, ...; divides N_HID and 64/CODE_W0)
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
    localparam LANES     = 64 / CODE_W0;                 // codes per 64-bit weight word
    localparam WPR       = (N_HID + LANES - 1) / LANES;  // words per input row
    localparam W0_DEPTH  = N_IN * WPR;
    localparam W0_AW     = (W0_DEPTH > 2) ? $clog2(W0_DEPTH) : 1;
    localparam W1_DATA_W = N_OUT * CODE_W1;
    localparam CLS_W     = (N_OUT > 2) ? $clog2(N_OUT) : 1;
    localparam HID_AW    = (N_HID > 2) ? $clog2(N_HID) : 1;
    localparam IDX_W     = (N_IN > 2) ? $clog2(N_IN) : 1;
    localparam LSEL_W    = (LANES > 2) ? $clog2(LANES) : 1;
    localparam WSEL_W    = (WPR > 2) ? $clog2(WPR) : 1;
    localparam FIFO_AW   = (FIFO_DEPTH > 2) ? $clog2(FIFO_DEPTH) : 1;
    localparam ENT_W     = 1 + 8 + IDX_W;                // {last, pixel, index}
    localparam MULTI     = (CODE_W0 > 2) ? 1 : 0;        // real multiply in layer 0
    localparam PROD_W    = 8 + CODE_W0;                  // unsigned 8 bit x signed code
    localparam OSEL_W    = (N_OUT > 2) ? $clog2(N_OUT) : 1;
    localparam GRP       = N_HID / P_LIF;               // membrane words per LIF lane
    localparam GRP_AW    = (GRP > 2) ? $clog2(GRP) : 1;
    localparam PSH       = (P_LIF > 1) ? $clog2(P_LIF) : 0;
    localparam [MEM_W-1:0]  TH        = THRESHOLD[MEM_W-1:0];
    localparam integer      W_LAST_I  = WPR - 1;
    localparam integer      J_LAST_I  = N_HID - P_LIF;
    localparam integer      LANE_LAST_I = LANES - P_LIF;
    localparam integer      P_I       = P_LIF;
    localparam integer      WPR_I     = WPR;
    localparam [WSEL_W-1:0] W_LAST    = W_LAST_I[WSEL_W-1:0];
    localparam integer      W_PREV_I  = (WPR > 1) ? WPR - 2 : 0;
    localparam [WSEL_W-1:0] W_PREV    = W_PREV_I[WSEL_W-1:0];   // w_q before W_LAST (WPR > 1)
    localparam [W0_AW-1:0]  WPR_A     = WPR_I[W0_AW-1:0];
    localparam [HID_AW-1:0] J_LAST    = J_LAST_I[HID_AW-1:0];
    localparam [LSEL_W-1:0] LANE_LAST = LANE_LAST_I[LSEL_W-1:0];
    localparam [LSEL_W-1:0] P_L       = P_I[LSEL_W-1:0];
    localparam [HID_AW-1:0] P_J       = P_I[HID_AW-1:0];
    localparam [IDX_W-1:0]  PIX_LAST  = N_IN - 1;
    localparam [IDX_W-1:0]  PIX_PREV  = N_IN - 2;             // pixel before the last (N_IN >= 2)
    localparam [7:0]        T_LAST    = T - 1;
    localparam [7:0]        T_PREV    = T - 2;            // t_q before T_LAST (unused if T = 1)
    localparam integer      J_PREV_I  = N_HID - 2 * P_LIF;
    localparam integer      LANE_PREV_I = LANES - 2 * P_LIF;
    localparam [HID_AW-1:0] J_PREV    = J_PREV_I[HID_AW-1:0];      // j_q before J_LAST
    localparam [LSEL_W-1:0] LANE_PREV = LANE_PREV_I[LSEL_W-1:0];   // lane_q before LANE_LAST
    localparam [OSEL_W-1:0] O_LAST    = N_OUT - 1;

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
        if (P_LIF < 1 || (P_LIF & (P_LIF - 1)) != 0 || N_HID % P_LIF != 0 || P_LIF > LANES
            || GRP < 2) begin
            $display("snn_engine: P_LIF %0d must be a power of 2 dividing N_HID (with N_HID/P_LIF >= 2) and <= %0d",
                     P_LIF, LANES);
            $finish;
        end
        if (T < 1 || T > 255) begin
            $display("snn_engine: T must be 1..255, got %0d", T); $finish;
        end
        if ((1 << FIFO_AW) != FIFO_DEPTH || FIFO_DEPTH < N_IN) begin
            $display("snn_engine: FIFO_DEPTH must be a power of 2 >= N_IN, got %0d", FIFO_DEPTH); $finish;
        end
        if (THRESHOLD < 64'd1 || THRESHOLD > (64'd1 << (MEM_W - 1)) - 64'd1) begin
            $display("snn_engine: THRESHOLD %0d outside 1..2^(MEM_W-1)-1", THRESHOLD); $finish;
        end
        if (W0_SPRAM != 0 && W0_DEPTH > 16384) begin
            $display("snn_engine: %0d layer-0 words exceed the 16384 of spram64; use W0_SPRAM=0", W0_DEPTH);
            $finish;
        end
        if (ACC_W < PROD_W + 1 || MEM_W < 2 || SCORE_W < CODE_W1 + 1) begin
            $display("snn_engine: widths too small (ACC_W %0d, MEM_W %0d, SCORE_W %0d)", ACC_W, MEM_W, SCORE_W);
            $finish;
        end
    end
`endif

    localparam [2:0] S_IDLE = 3'd0, S_L0 = 3'd1, S_DRAIN = 3'd2, S_LIF = 3'd3,
                     S_TAIL = 3'd4, S_ARG = 3'd5, S_OUT = 3'd6;

    reg  [2:0] state_q;

    // ================================================================ front end: zero skip + FIFO
    reg  [IDX_W-1:0]   pix_q;           // index of the next pixel of the incoming image
    reg  [FIFO_AW:0]   ram_cnt_q;       // entries in the FIFO RAM (not yet read out)
    reg                ram_ne_q;        // ram_cnt_q != 0
    reg                ram_nf_q;        // ram_cnt_q != FIFO_DEPTH
    reg                img_ne_q;        // img_cnt_q != 0
    reg  [FIFO_AW-1:0] wptr_q, rptr_q;
    reg  [FIFO_AW:0]   img_cnt_q;       // complete images held (their last entry not yet popped)
    reg                hv_q;            // head entry valid
    reg                rd_q;            // the FIFO RAM was read last cycle
    reg  [ENT_W-1:0]   head_hold_q;

    wire               s_fire  = s_valid & s_ready;
    reg                pix_last_q;      // pix_q == PIX_LAST
    wire               s_last  = pix_last_q;
    wire               f_we    = s_fire & ((s_data != 8'd0) | s_last);
    wire [ENT_W-1:0]   f_wdata = {s_last, s_data, pix_q};
    wire [ENT_W-1:0]   f_rdata;
    wire [ENT_W-1:0]   head    = rd_q ? f_rdata : head_hold_q;
    wire               pop;                                   // engine consumes the head entry
    wire               f_rd    = ram_ne_q & (~hv_q | pop);
    wire               head_last = head[ENT_W-1];
    wire [7:0]         head_pix  = head[IDX_W +: 8];
    wire [IDX_W-1:0]   head_idx  = head[IDX_W-1:0];

    assign s_ready = ram_nf_q;

    localparam integer     FD_I     = FIFO_DEPTH;
    localparam integer     FD_LAST_I = FIFO_DEPTH - 1;
    localparam [FIFO_AW:0] CNT_FULL = FD_I[FIFO_AW:0];
    localparam [FIFO_AW:0] CNT_ONE  = {{FIFO_AW{1'b0}}, 1'b1};
    localparam [FIFO_AW:0] CNT_LAST = FD_LAST_I[FIFO_AW:0];
    // flags of the next count, from comparisons of the current one (no adder in the path)
    wire ram_ne_d = ~(((ram_cnt_q == {(FIFO_AW+1){1'b0}}) & ~f_we)
                    | ((ram_cnt_q == CNT_ONE) & f_rd & ~f_we));
    wire ram_nf_d = ~(((ram_cnt_q == CNT_FULL) & ~f_rd)
                    | ((ram_cnt_q == CNT_LAST) & f_we & ~f_rd));
    reg  img_in_q;                       // an image's last entry entered (counted one cycle later)
    wire img_in   = img_in_q;
    wire img_out  = pop & head_last;     // an image's last entry leaves
    wire img_ne_d = ~(((img_cnt_q == {(FIFO_AW+1){1'b0}}) & ~img_in)
                    | ((img_cnt_q == CNT_ONE) & img_out & ~img_in));

    ram_sdp #(.DATA_W(ENT_W), .DEPTH(FIFO_DEPTH), .INIT_FILE("")) u_fifo (
        .clk(clk), .we(f_we), .waddr(wptr_q), .wdata(f_wdata),
        .re(f_rd), .raddr(rptr_q), .rdata(f_rdata)
    );

    always @(posedge clk) begin
        if (rst) begin
            pix_q     <= {IDX_W{1'b0}};
            pix_last_q <= (PIX_LAST == {IDX_W{1'b0}});
            ram_cnt_q <= {(FIFO_AW+1){1'b0}};
            ram_ne_q  <= 1'b0;
            ram_nf_q  <= 1'b1;
            img_ne_q  <= 1'b0;
            img_in_q  <= 1'b0;
            wptr_q    <= {FIFO_AW{1'b0}};
            rptr_q    <= {FIFO_AW{1'b0}};
            img_cnt_q <= {(FIFO_AW+1){1'b0}};
            hv_q      <= 1'b0;
            rd_q      <= 1'b0;
        end else begin
            if (s_fire) begin
                pix_q      <= s_last ? {IDX_W{1'b0}} : pix_q + 1'b1;
                pix_last_q <= s_last ? (PIX_LAST == {IDX_W{1'b0}}) : (pix_q == PIX_PREV);
            end
            if (f_we) wptr_q <= wptr_q + 1'b1;
            if (f_rd) rptr_q <= rptr_q + 1'b1;
            ram_cnt_q <= ram_cnt_q + {{FIFO_AW{1'b0}}, f_we} - {{FIFO_AW{1'b0}}, f_rd};
            ram_ne_q  <= ram_ne_d;
            ram_nf_q  <= ram_nf_d;
            img_ne_q  <= img_ne_d;
            img_in_q  <= f_we & s_last;
            img_cnt_q <= img_cnt_q + {{FIFO_AW{1'b0}}, img_in} - {{FIFO_AW{1'b0}}, img_out};
            if (f_rd) hv_q <= 1'b1;
            else if (pop) hv_q <= 1'b0;
            rd_q <= f_rd;
        end
        head_hold_q <= head;
    end

    // ================================================================ layer 0: weight reads
    reg  [WSEL_W-1:0] w_q;                        // word of the current row
    wire              in_l0   = (state_q == S_L0);
    // Every entry takes WPR cycles, also an image's last entry with pixel 0 (its additions
    // add 0): the end of a row is then a registered flag, and the FIFO read that follows a
    // pop depends on no head data.
    reg               w_last_q;                      // w_q == W_LAST
    wire              issue   = in_l0;
    wire              row_end = w_last_q;
    assign pop = in_l0 & row_end;

    wire [W0_AW-1:0]  rd_addr;
    generate
        if ((WPR & (WPR - 1)) == 0 && WPR > 1) begin : g_addr_pow2  // i * WPR + w: concatenation
            assign rd_addr = {head_idx, w_q[$clog2(WPR)-1:0]};
        end else begin : g_addr_mul
            assign rd_addr = {{(W0_AW-IDX_W){1'b0}}, head_idx} * WPR_A + {{(W0_AW-WSEL_W){1'b0}}, w_q};
        end
    endgenerate
    wire [63:0]       w0_rdata;

    generate
        if (W0_SPRAM != 0) begin : g_w0_spram
            wire [13:0] sp_addr = w_we ? {{(14-W0_AW){1'b0}}, w_addr} : {{(14-W0_AW){1'b0}}, rd_addr};
            spram64 #(.INIT_FILE(W0_FILE)) u_w0 (
                .clk(clk), .we(w_we), .wmask(4'b1111), .addr(sp_addr), .wdata(w_data), .rdata(w0_rdata)
            );
        end else begin : g_w0_ebr
            ram_sdp #(.DATA_W(64), .DEPTH(W0_DEPTH), .INIT_FILE(W0_FILE)) u_w0 (
                .clk(clk), .we(w_we), .waddr(w_addr), .wdata(w_data),
                .re(issue), .raddr(rd_addr), .rdata(w0_rdata)
            );
        end
    endgenerate

    // stage A: weight word and pixel aligned; stage B (multi-bit only): products
    reg       a_valid_q;
    reg [7:0] a_pix_q;
    reg       b_valid_q;
    always @(posedge clk) begin
        if (rst) begin
            a_valid_q <= 1'b0;
            b_valid_q <= 1'b0;
        end else begin
            a_valid_q <= issue;
            b_valid_q <= a_valid_q;
        end
        a_pix_q <= issue ? head_pix : 8'd0;   // gated here: 0 outside an addition
    end
    wire l0_add = MULTI ? b_valid_q : a_valid_q;

    // ================================================================ hidden LIF phase: counters
    reg  [7:0]        t_q;
    reg  [HID_AW-1:0] j_q;
    reg  [LSEL_W-1:0] lane_q;
    wire              in_lif    = (state_q == S_LIF);
    // registered comparisons (set with the counters): j_q == J_LAST, lane_q == LANE_LAST,
    // t_q == T_LAST; the ring clock enable depends on no counter comparison
    reg               j_last_q, lane_last_q, t_last_q;
    wire              j_last    = j_last_q;
    wire              t_last    = t_last_q;
    wire              rot       = in_lif & (lane_last_q | j_last);
    wire              ring_clr  = t_last;  // the last step empties the rings for the next image

    // ================================================================ current rings
    // Every lane computes head + code*x each cycle; outside an addition the pixel is 0 (gated
    // where it is registered), so whatever the codes (the weight RAM output is not gated;
    // any code times 0, and add/subtract of 0 modulo 2^ACC_W, is 0) the sum is the head
    // itself and a rotation needs no multiplexer in front of the ring (the tail is loaded
    // with the sum, or cleared through the flip-flops' synchronous reset during the last step).
    wire [LANES*ACC_W-1:0] heads;
    wire [7:0]             pix_g    = a_pix_q;                      // gated pixel (0 unless a_valid_q)
    wire                   ring_ce  = l0_add | rot | rst;
    wire                   tail_clr = rst | (rot & ring_clr);
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            reg  [ACC_W-1:0]         tail_q;                      // word WPR-1 of the ring
            wire signed [ACC_W-1:0]  head_v;                      // word 0 of the ring
            wire [CODE_W0-1:0]       code   = w0_rdata[l*CODE_W0 +: CODE_W0];
            wire signed [ACC_W-1:0]  sum;
            if (CODE_W0 == 2) begin : g_ter
                ternary_addsub #(.W(ACC_W)) u_add (
                    .acc(head_v), .x({{(ACC_W-8){1'b0}}, pix_g}), .code(code), .sum(sum)
                );
            end else if (CODE_W0 == 1) begin : g_bin
                binary_addsub #(.W(ACC_W)) u_add (
                    .acc(head_v), .x({{(ACC_W-8){1'b0}}, pix_g}), .code(code[0]), .sum(sum)
                );
            end else begin : g_mul
                wire signed [PROD_W-1:0] prod;                    // 0 one cycle after a gap
                mul_s #(.A_W(8), .A_SIGNED(0), .B_W(CODE_W0)) u_mul (
                    .clk(clk), .ce(1'b1), .a(pix_g), .b(code), .p(prod)
                );
                assign sum = head_v + {{(ACC_W-PROD_W){prod[PROD_W-1]}}, prod};
            end
            always @(posedge clk)
                if (ring_ce) tail_q <= tail_clr ? {ACC_W{1'b0}} : sum;
            if (WPR == 1) begin : g_one
                assign head_v = tail_q;
            end else if (WPR == 2) begin : g_two
                reg [ACC_W-1:0] body_q;                           // word 0
                always @(posedge clk)
                    if (ring_ce) body_q <= rst ? {ACC_W{1'b0}} : tail_q;
                assign head_v = body_q;
            end else begin : g_ring
                reg [(WPR-1)*ACC_W-1:0] body_q;                   // words 0 .. WPR-2
                always @(posedge clk)
                    if (ring_ce) body_q <= rst ? {((WPR-1)*ACC_W){1'b0}}
                                               : {tail_q, body_q[(WPR-1)*ACC_W-1:ACC_W]};
                assign head_v = body_q[ACC_W-1:0];
            end
            assign heads[l*ACC_W +: ACC_W] = head_v;
        end
    endgenerate

    // ================================================================ LIF pipeline
    // P_LIF neurons j_q .. j_q+P_LIF-1 per cycle (lanes lane_q .. lane_q+P_LIF-1 of the ring heads).
    // stage 0 (in_lif): currents, first level: one chunk of each group of 4 (pre_q)
    // stage 1: membrane reads; currents, second level: the group (s2_cur_q)
    // stage 2: t = 0 select, lif_pipe stage 1 (leak; current minus threshold)
    // stage 3: lif_pipe stage 2 (integrate, saturate, fire, reset), output-weight reads
    // stage 4: membrane writes (from the stage-4 register), score additions, trace
    // A neuron's membrane is written in stage 4, three cycles after its read; it is read again
    // GRP cycles after that read. GRP >= 4 reads the written word from the bank; GRP = 2 and 3
    // would read it before (or in the same cycle as) the write, so stage 2 takes it from the
    // stage-4 register (GRP = 2) or from one cycle later (GRP = 3).
    reg                      s1_valid_q, s1_first_q;
    reg  [HID_AW-1:0]        s1_j_q;
    reg  [7:0]               s1_t_q;
    reg                      s2_valid_q, s2_first_q;
    reg  [HID_AW-1:0]        s2_j_q;
    reg  [7:0]               s2_t_q;
    // Current selection in two levels: at the end of stage 0 one chunk (P_LIF lanes) of every
    // group of 8 chunks is registered (pre_q), stage 1 picks the group into s2_cur_q.
    localparam CW = P_LIF * ACC_W;              // one chunk: the currents of P_LIF neurons
    localparam NC = LANES / P_LIF;              // chunks per ring-head row
    localparam NG = (NC + 7) / 8;               // groups of up to 8 chunks
    localparam GSEL_W = (NG > 2) ? $clog2(NG) : 1;
    wire [LSEL_W-1:0]        ci = lane_q >> PSH;     // chunk of neurons j_q ..
    wire [LSEL_W+2:0]        ci3 = {3'b000, ci};
    wire                     unused_ci3 = &{ci3, 1'b0};   // only the low 3 bits select
    wire [LSEL_W-1:0]        ci_hi = ci >> 3;        // its group
    wire                     unused_ci_hi = &{ci_hi, 1'b0};  // upper bits are 0
    wire [2:0]               ci_lo = ci3[2:0];       // chunk within its group
    reg  [NG*CW-1:0]         pre_q;
    reg  [GSEL_W-1:0]        s1_g_q;
    reg  [P_LIF*ACC_W-1:0]   s2_cur_q;
    reg                      s3_valid_q;
    reg  [HID_AW-1:0]        s3_j_q;
    reg  [7:0]               s3_t_q;
    reg                      s4_valid_q;
    reg  [P_LIF-1:0]         s4_spike_q;
    reg  [HID_AW-1:0]        s4_j_q;
    reg  [7:0]               s4_t_q;
    reg  [P_LIF*MEM_W-1:0]   s4_v_q;
    wire [P_LIF*MEM_W-1:0]   v_next;
    wire [P_LIF-1:0]         spike;
    wire [P_LIF*W1_DATA_W-1:0] w1_rdata;
    wire [GRP_AW-1:0]        grp_rd = s1_j_q[HID_AW-1:PSH];
    wire [GRP_AW-1:0]        grp_wr = s4_j_q[HID_AW-1:PSH];
    wire [CW-1:0]            s1_sel = pre_q[s1_g_q*CW +: CW];  // stage-1 currents of the chunk
    wire [CW-1:0]            s1_cur;                  // ... plus the hidden bias (HAS_BIAS = 1)
    localparam B_AW = ((N_HID + N_OUT) > 2) ? $clog2(N_HID + N_OUT) : 1;
    localparam integer N_HID_I = N_HID;
    wire                     b_hid = ({1'b0, b_addr} < N_HID_I[B_AW:0]);   // bias write to the hidden layer
    wire [N_OUT*SCORE_W-1:0] ob_flat;                  // output biases (0 if HAS_BIAS = 0)
    wire                     unused_b = &{b_we, b_addr, b_data, b_hid, ob_flat, 1'b0};  // unused if HAS_BIAS = 0

    genvar g, c4;
    generate
        for (g = 0; g < NG; g = g + 1) begin : g_pre
            wire [8*CW-1:0] opts;                         // chunks 8g .. 8g+7 (beyond NC: 0)
            for (c4 = 0; c4 < 8; c4 = c4 + 1) begin : g_opt
                if (8 * g + c4 < NC) begin : g_chunk
                    assign opts[c4*CW +: CW] = heads[(8*g+c4)*CW +: CW];
                end else begin : g_none
                    assign opts[c4*CW +: CW] = {CW{1'b0}};
                end
            end
            always @(posedge clk) pre_q[g*CW +: CW] <= opts[ci_lo*CW +: CW];
        end
    endgenerate


    genvar q;
    generate
        for (q = 0; q < P_LIF; q = q + 1) begin : g_lif
            // membrane bank q holds neurons j with j % P_LIF == q, at address j / P_LIF
            localparam integer      Q_I = q;
            localparam [HID_AW-1:0] Q_J = Q_I[HID_AW-1:0];
            wire [MEM_W-1:0]        mem_rdata;
            wire [MEM_W-1:0]        v_prev;
            wire signed [MEM_W-1:0] v_old = s2_first_q ? {MEM_W{1'b0}} : v_prev;
            wire signed [MEM_W-1:0] v_new;
            wire signed [ACC_W-1:0] cur = s2_cur_q[q*ACC_W +: ACC_W];
            if (GRP == 2) begin : g_fwd2
                assign v_prev = s4_v_q[q*MEM_W +: MEM_W];
                wire unused_rdata = &{mem_rdata, 1'b0};
            end else if (GRP == 3) begin : g_fwd3
                reg [MEM_W-1:0] s5_v_q;
                always @(posedge clk) s5_v_q <= s4_v_q[q*MEM_W +: MEM_W];
                assign v_prev = s5_v_q;
                wire unused_rdata = &{mem_rdata, 1'b0};
            end else begin : g_bank
                assign v_prev = mem_rdata;
            end
            ram_sdp #(.DATA_W(MEM_W), .DEPTH(GRP), .INIT_FILE("")) u_mem (
                .clk(clk), .we(s4_valid_q), .waddr(grp_wr), .wdata(s4_v_q[q*MEM_W +: MEM_W]),
                .re(s1_valid_q), .raddr(grp_rd), .rdata(mem_rdata)
            );
            lif_pipe #(
                .MEM_W(MEM_W), .CUR_W(ACC_W), .LEAK_SHIFT(LEAK_SHIFT), .RESET_SUBTRACT(RESET_SUBTRACT)
            ) u_lif (
                .clk(clk), .ce(1'b1), .v(v_old), .cur(cur), .threshold(TH), .v_next(v_new), .spike(spike[q])
            );
            // one copy of the output weights per lane (one read port each), same image
            ram_sdp #(.DATA_W(W1_DATA_W), .DEPTH(N_HID), .INIT_FILE(W1_FILE)) u_w1 (
                .clk(clk), .we(1'b0), .waddr({HID_AW{1'b0}}), .wdata({W1_DATA_W{1'b0}}),
                .re(s3_valid_q), .raddr(s3_j_q | Q_J), .rdata(w1_rdata[q*W1_DATA_W +: W1_DATA_W])
            );
            assign v_next[q*MEM_W +: MEM_W] = v_new;
            // hidden bias: read with the ring heads (stage 0), added to the current in stage 1
            wire [ACC_W-1:0] cur_sel = s1_sel[q*ACC_W +: ACC_W];
            if (HAS_BIAS != 0) begin : g_bias
                wire [ACC_W-1:0] b_rd;
                ram_sdp #(.DATA_W(ACC_W), .DEPTH(N_HID), .INIT_FILE(B0_FILE)) u_b0 (
                    .clk(clk), .we(b_we & b_hid), .waddr(b_addr[HID_AW-1:0]), .wdata(b_data[ACC_W-1:0]),
                    .re(in_lif), .raddr(j_q | Q_J), .rdata(b_rd)
                );
                assign s1_cur[q*ACC_W +: ACC_W] = cur_sel + b_rd;
            end else begin : g_nobias
                assign s1_cur[q*ACC_W +: ACC_W] = cur_sel;  // not used (s2_cur_q takes pre_q itself)
            end
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            s1_valid_q <= 1'b0;
            s2_valid_q <= 1'b0;
            s3_valid_q <= 1'b0;
            s4_valid_q <= 1'b0;
        end else begin
            s1_valid_q <= in_lif;
            s2_valid_q <= s1_valid_q;
            s3_valid_q <= s2_valid_q;
            s4_valid_q <= s3_valid_q;
        end
        s1_first_q <= (t_q == 8'd0);
        s1_j_q     <= j_q;
        s1_t_q     <= t_q;
        s1_g_q     <= ci_hi[GSEL_W-1:0];
        s2_first_q <= s1_first_q;
        s2_j_q     <= s1_j_q;
        s2_t_q     <= s1_t_q;
        s2_cur_q   <= (HAS_BIAS != 0) ? s1_cur : pre_q[s1_g_q*CW +: CW];  // constant select
        s3_j_q     <= s2_j_q;
        s3_t_q     <= s2_t_q;
        s4_spike_q <= spike;
        s4_j_q     <= s3_j_q;
        s4_t_q     <= s3_t_q;
        s4_v_q     <= v_next;
    end

    assign trace_valid = s4_valid_q;
    assign trace_t     = s4_t_q;
    assign trace_n     = s4_j_q;
    assign trace_spike = s4_spike_q;
    assign trace_v     = s4_v_q;

    // ================================================================ scores
    // output biases (HAS_BIAS = 1): N_OUT registers, initialised from B1_FILE, written through
    // the bias port at addresses N_HID + o
    genvar ob_i;
    generate
        if (HAS_BIAS != 0) begin : g_ob
            localparam integer   N_OUT_I = N_OUT;
            wire [B_AW-1:0]      b_oaddr = b_addr - N_HID_I[B_AW-1:0];
            reg  [SCORE_W-1:0]   ob_mem [0:N_OUT-1];
            if (B1_FILE != "") begin : g_init
                initial $readmemh(B1_FILE, ob_mem);
            end
            always @(posedge clk)
                if (b_we & ~b_hid & (b_oaddr < N_OUT_I[B_AW-1:0])) ob_mem[b_oaddr[OSEL_W-1:0]] <= b_data[SCORE_W-1:0];
            for (ob_i = 0; ob_i < N_OUT; ob_i = ob_i + 1) begin : g_rd
                assign ob_flat[ob_i*SCORE_W +: SCORE_W] = ob_mem[ob_i];
            end
        end else begin : g_noob
            assign ob_flat = {(N_OUT*SCORE_W){1'b0}};
        end
    endgenerate

    wire start = (state_q == S_IDLE) & img_ne_q & hv_q;
    reg  clr_q;                          // one cycle after start: clear the scores
    always @(posedge clk) clr_q <= ~rst & start;
    wire [N_OUT*SCORE_W-1:0] scores;
    genvar o, k;
    generate
        for (o = 0; o < N_OUT; o = o + 1) begin : g_out
            reg  signed [SCORE_W-1:0] score_q;
            wire [P_LIF*SCORE_W-1:0]  addend;  // lane k's gated code for output o
            wire [P_LIF*SCORE_W-1:0]  partial; // running sum over lanes 0..k
            for (k = 0; k < P_LIF; k = k + 1) begin : g_lane
                wire [CODE_W1-1:0] c = w1_rdata[k*W1_DATA_W + o*CODE_W1 +: CODE_W1];
                wire [SCORE_W-1:0] val;
                if (CODE_W1 == 1) begin : g_bin
                    assign val = {{(SCORE_W-1){c[0]}}, 1'b1};  // 0 -> +1, 1 -> -1
                end else begin : g_tc
                    assign val = {{(SCORE_W-CODE_W1){c[CODE_W1-1]}}, c};
                end
                assign addend[k*SCORE_W +: SCORE_W] = s4_spike_q[k] ? val : {SCORE_W{1'b0}};
                if (k == 0) begin : g_first
                    assign partial[SCORE_W-1:0] = addend[SCORE_W-1:0];
                end else begin : g_next
                    assign partial[k*SCORE_W +: SCORE_W] = partial[(k-1)*SCORE_W +: SCORE_W]
                                                         + addend[k*SCORE_W +: SCORE_W];
                end
            end
            if (HAS_BIAS != 0) begin : g_obias
                // output bias b: added at every step (docs/arithmetic.md section 5), so the
                // score starts the image at T * b
                localparam [SCORE_W-1:0] T_S = T;
                wire [SCORE_W-1:0] ob = ob_flat[o*SCORE_W +: SCORE_W];
                always @(posedge clk)
                    if (rst) score_q <= {SCORE_W{1'b0}};
                    else if (clr_q) score_q <= ob * T_S;
                    else if (s4_valid_q & (|s4_spike_q))
                        score_q <= score_q + partial[(P_LIF-1)*SCORE_W +: SCORE_W];
            end else begin : g_nobias
                always @(posedge clk)
                    if (rst | clr_q) score_q <= {SCORE_W{1'b0}};
                    else if (s4_valid_q & (|s4_spike_q))
                        score_q <= score_q + partial[(P_LIF-1)*SCORE_W +: SCORE_W];
            end
            assign scores[o*SCORE_W +: SCORE_W] = score_q;
        end
    endgenerate

    // ================================================================ control
    reg  [2:0]              cnt_q;        // DRAIN / TAIL cycles
    reg  [OSEL_W-1:0]       arg_q;
    reg  signed [SCORE_W-1:0] best_q;
    reg  [CLS_W-1:0]        cls_q;
    reg                     out_valid_q;
    reg  [CLS_W-1:0]        out_cls_q;
    reg  [N_OUT*SCORE_W-1:0] out_scores_q;
    reg                     arg_done_q;   // the last score has been selected
    reg                     arg_end_q;    // ... and has entered the comparison stage
    reg                     arg_first_q;  // first ARG cycle
    reg                     n0_q;         // second ARG cycle: score 0 is in nxt_q
    reg  [OSEL_W-1:0]       na_q, ca_q;   // indices of nxt_q, cur_q
    reg  signed [SCORE_W-1:0] nxt_q, cur_q;
    reg                     gt_q;         // cur_q replaces best_q at the next edge
    wire                    out_free = ~out_valid_q | m_ready;

    localparam [2:0] DRAIN_CYC = MULTI ? 3'd2 : 3'd1;

    always @(posedge clk) begin
        if (rst) begin
            state_q     <= S_IDLE;
            out_valid_q <= 1'b0;
            w_q         <= {WSEL_W{1'b0}};
            w_last_q    <= 1'b0;
            t_q         <= 8'd0;
            j_q         <= {HID_AW{1'b0}};
            lane_q      <= {LSEL_W{1'b0}};
            j_last_q    <= 1'b0;
            lane_last_q <= 1'b0;
            t_last_q    <= 1'b0;
            cnt_q       <= 3'd0;
            arg_q       <= {OSEL_W{1'b0}};
            arg_done_q  <= 1'b0;
            arg_end_q   <= 1'b0;
            arg_first_q <= 1'b0;
        end else begin
            arg_first_q <= 1'b0;
            if (out_valid_q & m_ready) out_valid_q <= 1'b0;
            case (state_q)
                S_IDLE: if (start) begin
                    state_q <= S_L0;
                    w_q      <= {WSEL_W{1'b0}};
                    w_last_q <= (W_LAST == {WSEL_W{1'b0}});
                end
                S_L0: begin
                    w_q      <= row_end ? {WSEL_W{1'b0}} : w_q + 1'b1;
                    w_last_q <= row_end ? (W_LAST == {WSEL_W{1'b0}}) : (w_q == W_PREV);
                    if (row_end & head_last) begin
                        state_q <= S_DRAIN;
                        cnt_q   <= DRAIN_CYC - 3'd1;
                    end
                end
                S_DRAIN: begin
                    cnt_q <= cnt_q - 3'd1;
                    if (cnt_q == 3'd0) begin
                        state_q <= S_LIF;
                        t_q     <= 8'd0;
                        j_q     <= {HID_AW{1'b0}};
                        lane_q  <= {LSEL_W{1'b0}};
                        j_last_q    <= (J_LAST == {HID_AW{1'b0}});
                        lane_last_q <= (LANE_LAST == {LSEL_W{1'b0}});
                        t_last_q    <= (T_LAST == 8'd0);
                    end
                end
                S_LIF: begin
                    lane_q <= (j_last | lane_last_q) ? {LSEL_W{1'b0}} : lane_q + P_L;
                    j_q    <= j_last ? {HID_AW{1'b0}} : j_q + P_J;
                    j_last_q    <= ~j_last & (j_q == J_PREV);
                    lane_last_q <= (j_last | lane_last_q) ? (LANE_LAST == {LSEL_W{1'b0}})
                                                          : (lane_q == LANE_PREV);
                    if (j_last) t_last_q <= (t_q == T_PREV);
                    if (j_last) begin
                        t_q <= t_q + 8'd1;
                        if (t_last) begin
                            state_q <= S_TAIL;
                            cnt_q   <= 3'd3;
                        end
                    end
                end
                S_TAIL: begin
                    cnt_q <= cnt_q - 3'd1;
                    if (cnt_q == 3'd0) begin
                        state_q    <= S_ARG;
                        arg_q      <= {OSEL_W{1'b0}};
                        arg_done_q <= 1'b0;
                        arg_end_q  <= 1'b0;
                        arg_first_q <= 1'b1;
                    end
                end
                S_ARG: begin  // N_OUT selections, then two cycles for the last comparison
                    if (arg_q == O_LAST) arg_done_q <= 1'b1;
                    else arg_q <= arg_q + 1'b1;
                    if (arg_done_q) arg_end_q <= 1'b1;
                    if (arg_end_q) state_q <= S_OUT;
                end
                S_OUT: if (out_free) begin
                    state_q     <= S_IDLE;
                    out_valid_q <= 1'b1;
                end
                default: state_q <= S_IDLE;
            endcase
        end
    end

    // argmax datapath, one score per cycle in three stages: score arg_q into nxt_q; nxt_q into
    // cur_q with gt_q = "cur_q is greater than the best of the scores before it"; cur_q into
    // best_q/cls_q when gt_q. gt_q is computed one stage early from two comparisons, since the
    // best before nxt_q is cur_q if gt_q, else best_q: no comparison sits between gt_q and the
    // registers it enables. Score 0 always wins (n0_q), so best_q needs no initial value; the
    // stages run every cycle, and after the ARG phase nxt_q and cur_q repeat score N_OUT-1,
    // which never exceeds the best again (strictly greater: ties keep the lowest index), so
    // cls_q holds until it is taken.
    always @(posedge clk) begin
        nxt_q <= scores[arg_q*SCORE_W +: SCORE_W];
        na_q  <= arg_q;
        cur_q <= nxt_q;
        ca_q  <= na_q;
        n0_q  <= arg_first_q;
        gt_q  <= n0_q | (gt_q ? (nxt_q > cur_q) : (nxt_q > best_q));
        if (gt_q) begin
            best_q <= cur_q;
            cls_q  <= ca_q[CLS_W-1:0];
        end
        if (state_q == S_OUT && out_free) begin
            out_cls_q    <= cls_q;
            out_scores_q <= scores;
        end
    end

    assign m_valid  = out_valid_q;
    assign m_class  = out_cls_q;
    assign m_scores = out_scores_q;
    assign busy     = (state_q != S_IDLE) & ~((state_q == S_OUT) & ~out_free);

endmodule

`default_nettype wire
