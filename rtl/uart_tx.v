// uart_tx: 8N1 UART transmitter (least significant bit first), valid/ready byte stream in.
//
// A byte is taken when s_valid and s_ready are high; tx then sends the start bit, the eight
// data bits and the stop bit, CLKS_PER_BIT cycles each, from a register (no glitches). s_ready
// is high when the line is idle or the stop bit of the previous byte is ending, so bytes
// given back to back leave back to back (10 bits each, no idle bit between them).
`default_nettype none

module uart_tx #(
    parameter CLKS_PER_BIT = 16   // clock cycles per bit (clk Hz / baud), >= 2
) (
    input  wire       clk,
    input  wire       rst,        // synchronous, active high
    input  wire       s_valid,
    output wire       s_ready,
    input  wire [7:0] s_data,
    output reg        tx          // serial line, idle high
);

    localparam CNT_W = $clog2(CLKS_PER_BIT);
    localparam integer FULL_I = CLKS_PER_BIT - 1;
    localparam [CNT_W-1:0] FULL = FULL_I[CNT_W-1:0];

`ifndef SYNTHESIS
    initial begin
        if (CLKS_PER_BIT < 2) begin
            $display("uart_tx: CLKS_PER_BIT must be >= 2, got %0d", CLKS_PER_BIT); $finish;
        end
    end
`endif

    reg [8:0]       sh_q;      // bits still to send after the one on tx: data, then stop
    reg [3:0]       left_q;    // bits still to send after the one on tx (0: last or idle)
    reg             busy_q;
    reg [CNT_W-1:0] cnt_q;
    wire            tick = (cnt_q == {CNT_W{1'b0}});

    assign s_ready = ~busy_q | (tick & (left_q == 4'd0));

    always @(posedge clk) begin
        if (rst) begin
            tx     <= 1'b1;
            busy_q <= 1'b0;
            left_q <= 4'd0;
            cnt_q  <= {CNT_W{1'b0}};
            sh_q   <= 9'h1FF;
        end else if (s_valid & s_ready) begin
            tx     <= 1'b0;                 // start bit
            sh_q   <= {1'b1, s_data};
            left_q <= 4'd9;
            busy_q <= 1'b1;
            cnt_q  <= FULL;
        end else if (busy_q) begin
            if (~tick) begin
                cnt_q <= cnt_q - 1'b1;
            end else if (left_q == 4'd0) begin
                busy_q <= 1'b0;             // stop bit done: idle (tx stays high)
            end else begin
                tx     <= sh_q[0];
                sh_q   <= {1'b1, sh_q[8:1]};
                left_q <= left_q - 4'd1;
                cnt_q  <= FULL;
            end
        end
    end

endmodule

`default_nettype wire
